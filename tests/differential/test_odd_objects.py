"""Odd tag objects and `artifacts.yaml` files, each compared with gto 1.10.1 (issue 10).

Where gto answers, stagetag's stdout must be byte-identical. Where gto fails for the whole
repository, stagetag must name the cause on stderr and answer exactly what gto answers for the
same repository without it (the odd tag deleted; the annotations file not read, by pointing
gto's `.gto` `index` at a file that does not exist).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import GitRepo
from difftest_harness import cli_env, compare, oracle, under_test

COMMANDS = [
    ["show", "--json"],
    ["show", "-d", "--json"],
    ["show", "m", "--json"],
    ["show", "m", "-d", "--json"],
    ["show", "m#prod", "--version"],
    ["history", "--json"],
    ["history", "m", "--json"],
    ["check-ref", "m@v1.0.0", "--json"],
    ["check-ref", "m#prod#1", "--json"],
    ["stages", "--json"],
]
TAGGER = b"Odd Tagger <odd@example.com> 1704153600 +0000"
Body = Callable[[str, str, str], bytes]


def _header(target: str, kind: str = "commit", name: str = "m#prod#1", tagger: bytes = TAGGER):
    return f"object {target}\ntype {kind}\ntag {name}\n".encode() + b"tagger " + tagger + b"\n\n"


def _message(text: bytes, **kw: str) -> Body:
    return lambda commit, tree, blob: _header(commit, **kw) + text


def _dated(date: bytes) -> Body:
    return lambda commit, tree, blob: _header(commit, tagger=b"Odd <odd@example.com> " + date)


def _tagger(tagger: bytes) -> Body:
    return lambda commit, tree, blob: _header(commit, tagger=tagger) + b"m\n"


ANSWERED: dict[str, Body] = {
    "nul byte": _message(b"hello\x00world\n"),
    "control characters": _message(b"a\x01b\x1bc\x7f\x0bd\x0ce\x1cf\n"),
    "unicode line separators": _message("a\u2028b\u0085c\n".encode()),
    "CRLF": _message(b"l1\r\nl2\r\n\r\n"),
    "lone CR": _message(b"l1\rl2\n"),
    "empty message": _message(b""),
    "date -5": _dated(b"-5 +0000"),
    "date 0": _dated(b"0 -0100"),
    "year 5138": _dated(b"99999999999 +0000"),
    "zone +0090": _dated(b"1704153600 +0090"),
    "zone +5": _dated(b"1704153600 +5"),
    "zone +000100": _dated(b"1704153600 +000100"),
    "zone --0100": _dated(b"1704153600 --0100"),
    "extra header": lambda c, t, b: _header(c)[:-1] + b"encoding latin1\n\nm\n",
    "renamed tag object": _message(b"m\n", name="m#prod#7"),
}
UNREADABLE: dict[str, Body] = {
    "invalid UTF-8": _message(b"caf\xe9 \xff ok\n"),
    "date beyond year 9999": _dated(b"999999999999999 +0000"),
    "year 10000 in its zone": _dated(b"253402300799 +0100"),
    "date not a number": _dated(b"abc +0000"),
    "no zone": _dated(b"1704153600"),
    "zone +2500": _dated(b"1704153600 +2500"),
    "zone +9999": _dated(b"1704153600 +9999"),
    "no email": _tagger(b"a <> 1704153600 +0000"),
    "no name": _tagger(b"<a@b> 1704153600 +0000"),
    "no tagger": lambda c, t, b: f"object {c}\ntype commit\ntag m#prod#1\n\nm\n".encode(),
    "tags a tree": lambda c, t, b: _header(t, kind="tree") + b"m\n",
    "tags a blob": lambda c, t, b: _header(b, kind="blob") + b"m\n",
    "no message": lambda c, t, b: _header(c)[:-1],
    "object named otherwise": _message(b"m\n", name="not-gto"),
}


def _odd_repo(repo: GitRepo, body: Body) -> None:
    c1 = repo.commit("c1", "2024-01-01T00:00:00+0000")
    repo.tag("m@v1.0.0", c1, "2024-01-01T10:00:00+0000", "Registering artifact m version v1.0.0")
    c2 = repo.commit("c2", "2024-01-01T12:00:00+0000")
    repo.tag("m@v1.1.0", c2, "2024-01-02T10:00:00+0000", "Registering artifact m version v1.1.0")
    repo.tag("m#prod#2", c2, "2024-01-02T11:00:00+0000", "Assigning stage prod")
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    blob = repo.git("rev-parse", "HEAD:f_c1").strip()
    sha = (
        subprocess.run(
            ["git", "hash-object", "-t", "tag", "-w", "--literally", "--stdin"],
            cwd=repo.path,
            input=body(c1, tree, blob),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    repo.git("update-ref", "refs/tags/m#prod#1", sha)


@pytest.mark.parametrize("case", sorted(ANSWERED))
def test_odd_tag_objects_gto_reads(case: str, repo: GitRepo, tmp_path: Path) -> None:
    _odd_repo(repo, ANSWERED[case])
    home = tmp_path / "home"
    home.mkdir()
    compare([*COMMANDS, ["check-ref", "m#prod#7", "--json"]], repo.path, cli_env(home))


def _answers_without(
    repo: GitRepo, home: Path, hide: Callable[[], None], named: str, everywhere: bool = True
) -> None:
    """gto fails on every command here; stagetag names `named` (in every command, or in those
    that read it) and answers as gto does once `hide` has removed the cause."""
    env = cli_env(home)
    # one process per command: gto's logging warning would end up in the batch driver's stdout
    probes = [["show", "--json"], ["history", "--json"], ["check-ref", "m@v1.0.0", "--json"]]
    failed = oracle().run(probes, repo.path, env, batch=False)
    assert all(out.exit != 0 for out in failed), [out.stdout[:200] for out in failed]
    actual = under_test().run(COMMANDS, repo.path, env)
    seen = [named in out.stderr for out in actual]
    assert all(seen) if everywhere else seen[0], [out.stderr for out in actual]
    assert all("Traceback" not in out.stderr for out in actual)
    hide()
    expected = oracle().run(COMMANDS, repo.path, env)
    for argv, want, got in zip(COMMANDS, expected, actual, strict=True):
        assert (got.exit, got.stdout) == (want.exit, want.stdout), argv


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_odd_tag_objects_gto_fails_on(case: str, repo: GitRepo, tmp_path: Path) -> None:
    _odd_repo(repo, UNREADABLE[case])
    home = tmp_path / "home"
    home.mkdir()
    hide = lambda: repo.git("update-ref", "-d", "refs/tags/m#prod#1")  # noqa: E731
    _answers_without(repo, home, hide, "'m#prod#1'")


READ_INDEXES = {
    "labels and types GTO never checks on reads": (
        "x:\n  type: deep learning <b>\n  labels: [with space, '<script>alert(1)</script>', "
        "🚀, 'a|b', '']\n  description: \"line 1\\nline 2 | <i>\"\nm:\n  type: ''\n"
    ),
    "missing and extra keys": "x: {}\nm: {colour: red, path: null, type: null}\n",
    "lax booleans": "x: {virtual: 'off'}\nm: {virtual: 0}\ny: {virtual: 'YES'}\n",
    "YAML 1.2 words stay text": "x: {type: yes, path: on, description: 'no'}\n",
    "YAML 1.1 directive": "%YAML 1.1\n---\nx: {virtual: no}\n",
    "anchors and merges": "x: &b {type: model, labels: [l 1]}\nm: {<<: *b, path: p}\n",
    "escaped controls, CRLF": 'x:\r\n  description: "a\\x01b\\u0000c\r\n  d"\r\n',
    "custom values": "x: {custom: {n: [1, 1.5, .inf, 123456789012345678901234567890], s: t}}\n",
    "byte order mark": "\ufeffx: {type: t}\n",
    "empty mapping": "{}\n",
}
UNREAD_INDEXES = {
    "empty file": "",
    "null entry": "x:\n",
    "list": "- x\n",
    "invalid YAML": "x: [\n",
    "duplicate keys": "x: {}\nx: {type: t}\n",
    "key with a space": "bad name: {}\n",
    "key that is a number": "1: {}\n",
    "type that is a number": "x: {type: 123}\n",
    "type that is a float in YAML 1.2": "x: {type: 1e3}\n",
    "labels not a list": "x: {labels: abc}\n",
    "labels not strings": "x: {labels: [1, 2]}\n",
    "description null": "x: {description: null}\n",
    "virtual 2": "x: {virtual: 2}\n",
    "raw control character": "x: {description: a\x07b}\n",
    "tab indentation": "x:\n\ttype: t\n",
    "two documents": "x: {}\n---\ny: {}\n",
}


def _index_repo(repo: GitRepo, text: bytes) -> None:
    c1 = repo.commit("c1", "2024-01-01T00:00:00+0000")
    repo.tag("m@v1.0.0", c1, "2024-01-01T10:00:00+0000", "Registering artifact m version v1.0.0")
    (repo.path / "artifacts.yaml").write_bytes(text)
    c2 = repo.commit("c2", "2024-01-01T12:00:00+0000")
    repo.tag("m@v1.1.0", c2, "2024-01-02T10:00:00+0000", "Registering artifact m version v1.1.0")
    repo.tag("m#prod#1", c2, "2024-01-02T11:00:00+0000", "Assigning stage prod")


@pytest.mark.parametrize("case", sorted(READ_INDEXES))
def test_annotations_gto_reads(case: str, repo: GitRepo, tmp_path: Path) -> None:
    _index_repo(repo, READ_INDEXES[case].encode())
    home = tmp_path / "home"
    home.mkdir()
    flags = (["--json"], ["-d", "--json"])
    extra = [["show", name, *flag] for name in ("x", "y") for flag in flags]
    names = {"x", "y"} & set(READ_INDEXES[case].replace(":", " ").split())
    compare([*COMMANDS, *(a for a in extra if a[1] in names)], repo.path, cli_env(home))


@pytest.mark.parametrize("case", sorted(UNREAD_INDEXES))
def test_annotations_gto_fails_on(case: str, repo: GitRepo, tmp_path: Path) -> None:
    _index_repo(repo, UNREAD_INDEXES[case].encode())
    home = tmp_path / "home"
    home.mkdir()
    hide = lambda: (repo.path / ".gto").write_text("index: not-there.yaml\n")  # noqa: E731
    _answers_without(repo, home, hide, "artifacts.yaml at commit", everywhere=False)


def test_annotations_only_show_crashes_on(repo: GitRepo, tmp_path: Path) -> None:
    """YAML dates, sets and bytes in `custom`: gto crashes on `show NAME -d --json` only, and
    answers everything else; stagetag answers that too, with text and lists."""
    text = "x: {custom: {d: 2024-01-01, s: !!set {a, b}, b: !!binary aGk=}}\n"
    _index_repo(repo, text.encode())
    home = tmp_path / "home"
    home.mkdir()
    compare(COMMANDS, repo.path, cli_env(home))
    out = under_test().run([["show", "x", "--json"]], repo.path, cli_env(home))[0]
    assert out.exit == 0
    assert b'"d": "2024-01-01"' in out.stdout and b'"b": "hi"' in out.stdout
