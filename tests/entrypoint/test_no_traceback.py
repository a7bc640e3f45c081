"""Issue 9, "never a traceback": whatever bytes, YAML, paths, arguments, tag names, messages
and action inputs reach the real `stagetag` executable, it ends with a documented exit code
(0 done, 1 refused, 2 usage, 3 a deploy job failed; 4, an internal error, is a bug), one
`stagetag: error: ...` line for a refusal, and no file written outside the output it was given.

The hypothesis tests build scratch repositories from hostile files and tags and run every
command against them; the tests after them pin the cases issue 9 lists, one each."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import GitRepo, clean_environ, make_repo, require
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("STAGETAG_FUZZ_EXAMPLES", "50"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
DOCUMENTED = {0, 1, 2, 3}
DATE = "2024-01-01T12:00:00+0000"


@pytest.fixture(autouse=True)
def _stagetag_on_path() -> None:
    require(shutil.which("stagetag") is not None, "stagetag is not on PATH", "make .venv")


# --- running stagetag and checking how it ended --------------------------------------------------


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[bytes]:
    """The `stagetag` on PATH as a user runs it, with bytes out: a str argument with surrogate
    escapes ("\\udcff") reaches it as the raw byte, and its output is checked undecoded."""
    return subprocess.run(
        ["stagetag", *args],
        cwd=cwd,
        env={**clean_environ(), **(env or {})},
        capture_output=True,
        timeout=timeout,
    )


def check_ending(result: subprocess.CompletedProcess[bytes], github: bool = False) -> None:
    """A documented exit code, no traceback, and for a refusal one error line, the last;
    every other line on stderr is stagetag's own (a warning or notice), except a deploy job's
    output under exit 3. The action on GitHub also writes it as one `::error` line."""
    shown = (
        f"exit {result.returncode}\nstdout: {result.stdout[-2000:]!r}\n"
        f"stderr: {result.stderr[-3000:]!r}"
    )
    assert result.returncode in DOCUMENTED, shown
    assert b"Traceback" not in result.stderr + result.stdout, shown
    lines = result.stderr.splitlines()
    annotations = [li for li in result.stdout.splitlines() if li.startswith(b"::error")]
    if github:
        assert len(annotations) == (result.returncode != 0), shown
    if result.returncode == 2:  # click's usage error: a usage block, then `Error: ...`
        assert b"Error: " in result.stderr or b"Usage: " in result.stderr, shown
        return
    errors = [line for line in lines if line.startswith(b"stagetag: error: ")]
    if result.returncode == 0:
        assert not errors, shown
        return
    assert len(errors) == 1 and lines[-1] == errors[0], shown
    if result.returncode == 1:
        assert all(line.startswith(b"stagetag: ") for line in lines), shown


def snapshot(root: Path, skip: list[Path]) -> dict[str, tuple[int, int, int]]:
    """Every file (size, mode, mtime) and folder under `root` but git's own and `skip`'s."""
    skipped = {os.path.normpath(p) for p in skip}
    seen: dict[str, tuple[int, int, int]] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [
            d
            for d in dirs
            if d != ".git" and not d.endswith(".git") and os.path.join(folder, d) not in skipped
        ]
        for name in dirs + files:
            path = os.path.join(folder, name)
            if path in skipped:
                continue
            info = os.lstat(path)
            if name in dirs:  # a folder counts by being there: a target made in it changes it
                seen[path] = (0, info.st_mode, 0)
            else:
                seen[path] = (info.st_size, info.st_mode, info.st_mtime_ns)
    return seen


@contextmanager
def writes_only(root: Path, *targets: Path) -> Iterator[None]:
    """Fails if anything under `root` outside `targets` (and .git) changed meanwhile."""
    before = snapshot(root, list(targets))
    yield
    after = snapshot(root, list(targets))
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"written outside the target: {changed}"


def target_of(cwd: Path, value: str) -> Path:
    return Path(os.path.normpath(cwd / value))


# --- hostile material ---------------------------------------------------------------------------

CONTROL = st.characters(min_codepoint=1, max_codepoint=31) | st.sampled_from("\x7f\x85\u2028")
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00") | CONTROL, max_size=20
)
NON_UTF8 = st.sampled_from(["\udcff", "a\udcfeb", "\udcc3(", "m\udcff#prod#1"])
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True),
    TEXT,
    st.sampled_from(["{{ name }}", "{{ range(10**9)|list }}", "{{ 'x' * 10**9 }}", "{{ x }}"]),
    st.sampled_from(["{% for %}", "{{ name.__class__ }}", "{{ message|raw }}", "*a", "&a x"]),
)
KEY_NAMES = [
    "deploy", "promotion", "stages", "prod", "dev", "environment", "undeploy", "defaults",
    "artifacts", "match", "type", "events", "templates", "timeout", "runs_on", "concurrency",
    "registration", "order", "protected", "actors", "branches", "types", "index", "path", "desc",
    "description", "labels", "meta", "m", "custom", "virtual",
]  # fmt: skip
KEYS = st.sampled_from(KEY_NAMES) | TEXT
DATA = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


def _dump(data: object) -> str:
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def _nested(depth: int) -> str:
    return "deploy: " + "[" * depth + "]" * depth + "\n"


FILE_TEXT = st.one_of(
    DATA.map(_dump),
    st.binary(max_size=200).map(lambda b: b.decode("utf-8", "surrogateescape")),
    TEXT,
    st.integers(60, 400).map(_nested),
    st.sampled_from(
        [
            "deploy:\n  stages:\n    prod:\n      deploy: echo {{ message }}\n",
            "deploy:\n  stages:\n    prod:\n      deploy: 'false'\n      undeploy: exit 7\n",
            "deploy:\n  stages:\n    prod:\n      deploy: echo {{ range(10**9)|list }}\n",
            "deploy:\n  templates: ../../..\n  stages:\n    prod: {deploy: x}\n",
            "deploy:\n  templates: /nonexistent\n  stages:\n    prod: {deploy: x}\n",
            "promotion:\n  order: [dev, prod]\n  protected:\n    prod: {actors: [bob]}\n",
            "stages: [dev, prod]\ntypes: [model]\nindex: artifacts.yaml\n",
            "index: ../../../../etc/passwd\n",
            "index: .git/config\n",
            "a: &a [*a]\n",
            "- &a [*a, *a, *a]\n- &b [*a, *a, *a]\n- &c [*b, *b, *b]\n",
            "m: !!python/object/apply:os.system ['touch pwned']\n",
            "m:\n  path: " + "p" * 200_000 + "\n",
        ]
    ),
)


def _save(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8", "surrogateescape"))


# Tag names git accepts (check-ref-format) and messages git stores verbatim.
TAG_NAME = st.one_of(
    st.sampled_from(
        [
            "m@v0.0.1",
            "m#prod#2",
            "m#prod!#3",
            "m@deprecated",
            "m@created",
            "m@v1.0.0-rc.1+build",
            "dir/sub:m@v0.0.2",
            "m#prod",
            "m#$(touch pwned)#4",
            "m#prod#99999999999999999999999",
            "m@v99999999999999999999.0.0",
            "m#" + "s" * 300 + "#5",
        ]
    ),
    st.text(st.sampled_from("m@#!v0.1-_/:$`;|&{}"), min_size=1, max_size=24),
)
MESSAGE = st.one_of(
    TEXT,
    st.binary(max_size=40).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.sampled_from(["x" * 140_000, "\U0001f600" * 30_000, "::error::x\n::set-output x", ""]),
)


def _tag(repo: GitRepo, name: str, message: str, scratch: Path) -> None:
    """An annotated tag at HEAD with a verbatim message (from a file: it may be 140 KB or not
    UTF-8); a name git refuses is left out, as git would leave it out."""
    body = scratch / "message"
    body.write_bytes(message.encode("utf-8", "surrogateescape") or b"x")
    subprocess.run(
        ["git", "tag", "-a", name, "-F", str(body), "--cleanup=verbatim"],
        cwd=repo.path,
        env={**os.environ, "GIT_COMMITTER_DATE": DATE},
        capture_output=True,
        check=False,
    )
    body.unlink()


# Each command with arguments that reach its work, given this repository.
def _read_invocations(out: str) -> list[list[str]]:
    return [
        ["show"],
        ["show", "--json"],
        ["show", "m", "--json"],
        ["show", "m#prod", "--version"],
        ["show", "--md", "-d"],
        ["history", "--json"],
        ["history", "m", "--md"],
        ["check-ref", "m#prod#2", "--json"],
        ["check-ref", "refs/tags/m@v0.0.1"],
        ["stages", "--json"],
        ["stages", "--used"],
        ["dashboard", "-o", out],
        ["dispatch", "m#prod#2", "--no-fetch"],
        ["dispatch", "m#prod#2", "m@v0.0.1", "--format", "gitlab", "--no-fetch"],
        ["dispatch", "m#prod#2", "--format", "script", "--no-fetch", "-o", out],
        ["dispatch", "m#prod#3", "--run", "--no-fetch"],
        ["dispatch", "m#prod#2", "--run", "--no-fetch"],
    ]


WRITE_INVOCATIONS = [
    ["register", "m"],
    ["register", "m", "--bump-minor"],
    ["assign", "m", "--version", "v0.0.1", "--stage", "prod"],
    ["promote", "m", "HEAD", "--stage", "dev", "--version", "v0.1.0"],
    ["unassign", "m", "v0.0.1", "--stage", "prod"],
    ["deregister", "m", "v0.0.1"],
    ["deprecate", "m"],
    ["rollback", "m", "--stage", "prod"],
]


@st.composite
def hostile_repository(draw: st.DrawFn) -> dict[str, object]:
    files = {
        name: draw(st.none() | FILE_TEXT)
        for name in (".gto", "stagetag.yaml", "dvc.yaml", "artifacts.yaml", "dir/sub/dvc.yaml")
    }
    tags = draw(st.lists(st.tuples(TAG_NAME, MESSAGE), max_size=4))
    return {"files": files, "tags": tags}


def build(scratch: Path, spec: dict[str, object]) -> GitRepo:
    """A repository with the drawn files committed (annotations are read at the tag's commit)
    and in the working tree, a registered, assigned version, and the drawn tags."""
    repo = make_repo(scratch / "repo")
    repo.commit("base", DATE)
    repo.tag("m@v0.0.1", "HEAD", DATE, "registered")
    repo.tag("m#prod#1", "HEAD", DATE, "assigned")
    files = spec["files"]
    assert isinstance(files, dict)
    for name, text in files.items():
        if text is not None:
            _save(repo.path / name, text)
    repo.git("add", "-A")
    repo.git("commit", "-qm", "hostile files", "--allow-empty")
    tags = spec["tags"]
    assert isinstance(tags, list)
    for name, message in tags:
        _tag(repo, name, message, scratch)
    return repo


@FUZZ
@given(spec=hostile_repository(), which=st.integers(0, 10**6))
def test_every_command_survives_hostile_files_and_tags(spec: dict[str, object], which: int) -> None:
    """Hostile `.gto`, `stagetag.yaml`, `dvc.yaml`, `artifacts.yaml`, tag names and messages:
    a read or dispatch command and a write command each end cleanly."""
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        repo = build(scratch, spec)
        out = "site"
        reads = _read_invocations(out)
        read = reads[which % len(reads)]
        for args in (read, WRITE_INVOCATIONS[which % len(WRITE_INVOCATIONS)]):
            with writes_only(scratch, target_of(repo.path, out)):
                check_ending(run(args, repo.path))


# --- hostile arguments --------------------------------------------------------------------------

FLAGS = [
    "--json", "--name", "--version", "--stage", "--ref", "--md", "-d", "--ro", "--vs", "--av",
    "--sort", "--asc", "--allowed", "--used", "-o", "--remote", "--push", "--dry-run", "--force",
    "--simple", "-m", "--actor", "--bump-major", "--bump-patch", "--sr", "--to", "--format",
    "--run", "--since", "--save-state", "--no-fetch", "-r", "--traceback", "--help", "--event",
    "--sign-with", "--at",
]  # fmt: skip
VALUE = st.one_of(
    st.sampled_from(
        ["m", "m@v0.0.1", "m#prod", "m#prod#1", "v0.0.1", "prod", "HEAD", "-1", "0", "99999"]
    ),
    st.sampled_from(["refs/tags/m#prod#1", "origin", "auto", "true", "semver", "gitlab"]),
    st.sampled_from(["script", "json", "github", "", "-", "--", "m@latest", "m@v0.0.1^{}"]),
    st.sampled_from(["2024-02-01", "2024-02-30T25:00", "2024-02-01T00:00:00+99:00", "HEAD^{tree}"]),
    TEXT,
    NON_UTF8,
    st.sampled_from(["x" * 100_000, "\U0001f600" * 20_000, "$(touch pwned)", "a\nb", "@{-1}"]),
)
# Paths given to -o, --since, --save-state, -r: relative, inside the scratch folder.
PATHS = ["out", "nodir/out", ".", "afile", "afile/sub", "bad-state", "a\nb", "\udcff", "x" * 300]


COMMANDS = [
    "show", "history", "check-ref", "stages", "dashboard", "register", "assign", "promote",
    "unassign", "deregister", "deprecate", "rollback", "dispatch",
]  # fmt: skip
ACTION_COMMANDS = [
    "register", "assign", "unassign", "deregister", "deprecate", "rollback", "check-ref",
    "dispatch", "dashboard",
]  # fmt: skip


@st.composite
def arguments(draw: st.DrawFn) -> list[str]:
    """A command with mostly meaningful arguments, one or two of them hostile."""
    command = draw(st.sampled_from(COMMANDS))
    args = [command]
    for _ in range(draw(st.integers(0, 5))):
        token = draw(st.sampled_from(FLAGS) | VALUE)
        args.append(token)
        if token in ("-o", "--since", "--save-state", "-r", "--sign-with"):
            args.append(draw(st.sampled_from(PATHS)))
    return args


def _base_repository(scratch: Path) -> GitRepo:
    """A registry with a bare origin, a harmless deploy command, a file and a non-UTF-8 one."""
    bare = scratch / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    repo = make_repo(scratch / "repo")
    repo.git("remote", "add", "origin", str(bare))
    _save(
        repo.path / "stagetag.yaml",
        "deploy:\n  stages:\n    prod:\n      deploy: echo deploy {{ name }} {{ message }}\n"
        "      undeploy: echo undeploy {{ name }}\n",
    )
    repo.commit("base", DATE)
    repo.tag("m@v0.0.1", "HEAD", DATE, "registered")
    repo.tag("m#prod#1", "HEAD", DATE, "assigned")
    repo.git("push", "-q", "origin", "main", "--tags")
    (repo.path / "afile").write_text("a file\n")
    (repo.path / "bad-state").write_bytes(b"m#prod#1\n\xff\xfe\n")
    return repo


@FUZZ
@given(args=arguments())
def test_every_command_survives_hostile_arguments(args: list[str]) -> None:
    """Random, surrogate-escaped (non-UTF-8), huge and control-character arguments and paths."""
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        repo = _base_repository(scratch)
        outputs = [
            target_of(repo.path, value)
            for flag, value in itertools.pairwise(args)
            if flag in ("-o", "--save-state")
        ]
        with writes_only(scratch, *outputs):
            check_ending(run(args, repo.path))


# --- hostile action inputs ----------------------------------------------------------------------

INPUT_VALUE = st.one_of(
    VALUE,
    st.sampled_from(["a\nb", "a\r\nb", "\x1b[31mred", "\x07\x08\x0b\x0c", "%0A::error::x"]),
    st.sampled_from(["v" + "9" * 100_000, "m" * 100_000, "\t \n", "true\n", "TRUE"]),
)
INPUTS = [
    "command", "name", "ref", "version", "stage", "message", "push", "remote", "token",
    "dry_run", "force", "simple", "bump", "to", "skip_registration", "dispatch_workflow",
    "dispatch_ref", "signing_key",
]  # fmt: skip


@st.composite
def action_inputs(draw: st.DrawFn) -> dict[str, str]:
    command = draw(st.sampled_from([*ACTION_COMMANDS, ""]) | INPUT_VALUE)
    inputs = {"command": command, "name": "m", "push": "false", "stage": "prod"}
    for key in draw(st.lists(st.sampled_from(INPUTS), max_size=3)):
        inputs[key] = draw(INPUT_VALUE)
    if sum(len(v) for v in inputs.values()) > 150_000:  # the kernel's limit for an environment
        inputs = {k: v[:1000] for k, v in inputs.items()}
    return inputs


@FUZZ
@given(inputs=action_inputs(), github=st.booleans(), dashes=st.booleans())
def test_action_survives_hostile_inputs(inputs: dict[str, str], github: bool, dashes: bool) -> None:
    """INPUT_* (GitHub) or STAGETAG_* (elsewhere) with newlines, control characters, non-UTF-8
    and huge values: one `::error` and one `stagetag: error:` line, a documented exit code."""
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        repo = _base_repository(scratch)
        prefix = "INPUT_" if github else "STAGETAG_"
        env = {
            f"{prefix}{k.upper().replace('_', '-') if dashes else k.upper()}": v
            for k, v in inputs.items()
        }
        if github:
            env.update(
                GITHUB_ACTIONS="true",
                GITHUB_WORKSPACE=str(repo.path),
                GITHUB_OUTPUT=str(scratch / "github_output"),
                GITHUB_STEP_SUMMARY=str(scratch / "step_summary"),
                GITHUB_REF="refs/tags/m#prod#1",
                GITHUB_API_URL="http://127.0.0.1:9",  # nothing listens: a refused connection
            )
        targets = [scratch / "github_output", scratch / "step_summary", repo.path / "site"]
        with writes_only(scratch, *targets, repo.path / "stagetag.env"):
            result = run(["action"], repo.path, env)
        check_ending(result, github=github)


# --- the cases issue 9 lists, one test each ---------------------------------------------------


@pytest.fixture
def registry(tmp_path: Path) -> GitRepo:
    """`m@v0.0.1` assigned to prod, committed; the tests add the hostile part."""
    return _base_repository(tmp_path)


def refused(result: subprocess.CompletedProcess[bytes], *words: str, code: int = 1) -> str:
    """The run refused with `code` and one error line naming `words`; that line."""
    check_ending(result)
    assert result.returncode == code, result.stderr
    line = result.stderr.splitlines()[-1].decode("utf-8", "backslashreplace")
    for word in words:
        assert word in line, line
    return line


def test_gto_nested_300_deep(registry: GitRepo) -> None:
    """Reads warn about the file and go on (exit 0); writes refuse it (exit 1)."""
    (registry.path / ".gto").write_text("stages: " + "[" * 300 + "]" * 300 + "\n")
    shown = run(["show", "--json"], registry.path)
    check_ending(shown)
    assert shown.returncode == 0
    (warning,) = shown.stderr.splitlines()
    assert b".gto" in warning and b"nested deeper than 64" in warning
    refused(run(["register", "m"], registry.path), ".gto", "nested deeper than 64")


def test_stagetag_yaml_nested_300_deep(registry: GitRepo) -> None:
    (registry.path / "stagetag.yaml").write_text(
        "deploy:\n  stages: " + "{a: " * 300 + "x" + "}" * 300 + "\n"
    )
    refused(run(["dispatch", "m#prod#1"], registry.path), "stagetag.yaml:2", "nested deeper")
    refused(
        run(["assign", "m", "--version", "v0.0.1", "--stage", "dev"], registry.path),
        "stagetag.yaml",
        "nested deeper",
    )
    assert "m#dev#2" not in registry.git("tag")


def test_stagetag_yaml_not_utf8(registry: GitRepo) -> None:
    (registry.path / "stagetag.yaml").write_bytes(b"deploy:\n  events: [assignment\xff]\n")
    refused(run(["dispatch", "m#prod#1"], registry.path), "stagetag.yaml", "not UTF-8", "byte 29")


def test_stagetag_yaml_control_character(registry: GitRepo) -> None:
    (registry.path / "stagetag.yaml").write_bytes(b"promotion:\n  order: [dev\x07]\n")
    line = refused(
        run(["assign", "m", "--version", "v0.0.1", "--stage", "dev"], registry.path),
        "stagetag.yaml: not valid YAML",
    )
    assert "character '\\x07'" in line  # named, not rung


@contextmanager
def tmpfs(where: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at `where` (root only); skips where mounting is not permitted."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


def fill(path: Path) -> None:
    """Take every byte left on `path`'s file system."""
    with open(path, "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 1024)
        except OSError:
            pass


def test_dashboard_output_is_a_file(registry: GitRepo) -> None:
    refused(run(["dashboard", "-o", "afile"], registry.path), "Not a directory", "afile")
    assert (registry.path / "afile").read_text() == "a file\n"


def test_dashboard_output_read_only(registry: GitRepo, tmp_path: Path) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if not os.access(folder, os.W_OK):  # not root: the mode is enough
        refused(run(["dashboard", "-o", str(folder / "site")], registry.path), "Permission denied")
        return
    # root writes through any mode: a read-only file system stops it
    with tmpfs(tmp_path / "ro", "ro,size=16k") as ro:
        refused(run(["dashboard", "-o", str(ro / "site")], registry.path), "Read-only", "site")


def test_dashboard_on_a_full_disk(registry: GitRepo, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "full", "size=16k") as full:
        fill(full / "filler")
        line = refused(run(["dashboard", "-o", str(full / "site")], registry.path), "No space")
        assert str(full / "site") in line  # the file being written, not the template read


@pytest.mark.parametrize("option", ["-o", "--save-state", "--since"])
def test_dispatch_file_options_on_a_missing_folder_and_a_directory(
    registry: GitRepo, option: str
) -> None:
    for path, why in (("nodir/out", "does not exist" if option == "--since" else "No such"),
                      (".", "Is a directory")):  # fmt: skip
        with writes_only(registry.path):
            refused(run(["dispatch", "m#prod#1", option, path], registry.path), why, path)


def test_dispatch_since_a_file_that_is_not_utf8(registry: GitRepo) -> None:
    refused(
        run(["dispatch", "--since", "bad-state"], registry.path),
        "state file 'bad-state' is not UTF-8 text (byte 9)",  # from 0, as Python counts
        "--save-state",
    )


def test_dispatch_output_on_a_full_disk_leaves_no_partial_file(
    registry: GitRepo, tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "full", "size=16k") as full:
        (full / "old.json").write_text("{}")
        fill(full / "filler")
        for option in ("-o", "--save-state"):
            for name in ("new.json", "old.json"):
                refused(
                    run(["dispatch", "m#prod#1", option, str(full / name)], registry.path),
                    "No space left on device",
                    str(full / name),
                )
        assert sorted(p.name for p in full.iterdir()) == ["filler", "old.json"]
        assert (full / "old.json").read_text() == "{}"


def test_dispatch_output_is_replaced_whole(registry: GitRepo) -> None:
    """The atomic write still writes: the rendered jobs, and the state for --since."""
    (registry.path / "out").write_text("old\n")
    check_ending(run(["dispatch", "m#prod#1", "-o", "out", "--save-state", "state"], registry.path))
    assert '"include"' not in (registry.path / "out").read_text()
    assert "deploy" in (registry.path / "out").read_text()
    assert (registry.path / "state").read_text() == "m#prod#1\nm@v0.0.1\n"
    assert oct((registry.path / "state").stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize(
    "args", [["register", "m", "HEAD", "--version", "v0.0.2"], ["assign", "m", "--stage", "dev"]]
)
def test_message_not_utf8(registry: GitRepo, args: list[str]) -> None:
    before = registry.git("tag")
    refused(run([*args, "-m", "bad \udcff\udcfe"], registry.path), "not valid UTF-8", "--message")
    assert registry.git("tag") == before


def test_action_message_not_utf8(registry: GitRepo) -> None:
    env = {"STAGETAG_COMMAND": "register", "STAGETAG_NAME": "m", "STAGETAG_PUSH": "false"}
    result = run(["action"], registry.path, {**env, "STAGETAG_MESSAGE": "\udcff"})
    refused(result, "not valid UTF-8", "input 'message'")


def _deploy_message(registry: GitRepo, message: bytes) -> subprocess.CompletedProcess[bytes]:
    """Assign v0.0.1 to staging with `message` (written by git: `-m` cannot take 140 KB) and
    run its deploy command, which echoes the message."""
    (registry.path / "stagetag.yaml").write_text(
        "deploy:\n  stages:\n    staging:\n      deploy: echo {{ message }} | wc -c\n"
    )
    (registry.path / "message").write_bytes(message)
    registry.git("tag", "-a", "m#staging#2", "-F", "message", "--cleanup=verbatim", "m@v0.0.1")
    return run(["dispatch", "m#staging#2", "--run", "--no-fetch"], registry.path)


def test_140_kb_message_in_a_deploy_command(registry: GitRepo) -> None:
    refused(_deploy_message(registry, b"x" * 140_000), "it makes too much", "100,000")


def test_140_kb_of_emoji_in_a_deploy_command(registry: GitRepo) -> None:
    """35,000 characters, under the character bound, but 140,000 bytes: over the kernel's
    limit for one argument, so refused before bash could fail with E2BIG."""
    line = refused(_deploy_message(registry, "\U0001f600".encode() * 35_000), "140,0")
    assert "bytes" in line and "Argument list too long" not in line


def test_a_deploy_job_too_big_to_start_fails_as_a_job(registry: GitRepo) -> None:
    """An annotation too large for the environment (STAGETAG_PATH): the job cannot start,
    which is a failed job (exit 3), and the others still run."""
    (registry.path / "artifacts.yaml").write_text("m:\n  path: " + "p" * 140_000 + "\n")
    (registry.path / "stagetag.yaml").write_text(
        "deploy:\n  stages:\n    prod: {deploy: echo deployed}\n"
        "  registration: {deploy: echo registered}\n"
        "  events: [assignment, registration]\n"
    )
    (registry.path / ".gto").write_text("index: artifacts.yaml\n")
    registry.git("add", "-A")
    registry.git("commit", "-qm", "big annotation")
    registry.git("tag", "-a", "n@v0.0.1", "-m", "n")
    registry.git("tag", "-a", "m#prod#2", "-m", "again", "m@v0.0.1")
    registry.git("tag", "-a", "m@v0.0.2", "-m", "m")
    result = run(["dispatch", "n@v0.0.1", "m@v0.0.2", "--run", "--no-fetch"], registry.path)
    refused(result, "1 of 2 deploy jobs failed", code=3)
    assert b"could not start: Argument list too long" in result.stderr
    assert b"registered" in result.stdout  # the job for n ran


@pytest.mark.parametrize(
    "template",
    [
        "{{ range(10**9)|list }}",
        "{{ 'x' * 10**9 }}",
        "{{ 'x'|center(10**12) }}",  # MemoryError
        "{{ ((10**999)**999)**999 }}",  # each power within bounds, their result not
        "{{ 10**999 * 10**999 * 10**999 * 10**999 * 10**999 }}",  # over Python's 4,300 digits
        "{{ ['x'] * 10**6|join }}",  # TypeError: the filter binds first
        "{{ 1/0 }}",
    ],
)
def test_a_template_that_asks_for_too_much(registry: GitRepo, template: str) -> None:
    (registry.path / "stagetag.yaml").write_text(
        f'deploy:\n  stages:\n    prod:\n      deploy: "echo {template}"\n'
    )
    result = run(["dispatch", "m#prod#1", "--run", "--no-fetch"], registry.path, timeout=60)
    refused(result, "template", "echo {{")


@pytest.mark.parametrize(
    "value", ["m\n::error::injected", "prod\x07\x1b[31m\x08\x0b", "v" + "9" * 100_000]
)
@pytest.mark.parametrize("key", ["name", "stage", "version", "push", "command"])
def test_action_hostile_input_is_one_error(registry: GitRepo, key: str, value: str) -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(registry.path),
        "INPUT_COMMAND": "assign",
        "INPUT_NAME": "m",
        "INPUT_VERSION": "v0.0.1",
        "INPUT_STAGE": "dev",
        "INPUT_PUSH": "false",
        f"INPUT_{key.upper()}": value,
    }
    result = run(["action"], registry.path, env)
    check_ending(result, github=True)
    assert result.returncode == 1
    (annotation,) = result.stdout.splitlines()[-1:]
    assert annotation.startswith(b"::error title=stagetag::")
    assert b"\x1b" not in result.stdout + result.stderr and b"\x07" not in result.stderr


def test_an_error_line_escapes_control_characters_in_a_file_name(registry: GitRepo) -> None:
    """An OSError names the user's file as is; a newline in it must not make two lines."""
    name = "a\nb\x1b[31m/" + "x" * 300
    refused(run(["dashboard", "-o", name], registry.path), "File name too long", "a\\nb\\x1b")


def test_traceback_flag_and_debug_variable(registry: GitRepo) -> None:
    """No internal error is known to provoke; the flag and the variable are accepted, and a
    refusal stays one line with them (a traceback is for bugs only)."""
    args = ["show", "nonsense"]
    plain = refused(run(args, registry.path), "nonsense")
    assert refused(run(["--traceback", *args], registry.path), "nonsense") == plain
    assert refused(run(args, registry.path, {"STAGETAG_DEBUG": "1"}), "nonsense") == plain


def test_dashboard_with_a_tag_message_not_utf8(registry: GitRepo) -> None:
    (registry.path / "message").write_bytes(b"bad \x80 byte")
    registry.git("tag", "-a", "m#prod#2", "-F", "message", "--cleanup=verbatim", "m@v0.0.1")
    check_ending(run(["dashboard", "-o", "site"], registry.path))
