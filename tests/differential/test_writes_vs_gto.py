"""Tags written by stagetag must read, in the real gto 1.10.1, exactly like the tags gto writes.

The gto-interop.md Part B sequence (B1-B18, less the two error steps where stagetag is a
no-op by design) runs step by step in three repositories with the same commits: one with gto,
one with stagetag's own command names (`unassign`, `deregister`) and one with stagetag in
gto's spelling (`deprecate NAME VERSION [STAGE]`). Every step starts in a new second in all
three, so gto's same-second tie-breaks cannot differ between them; only the tagger
timestamps do, and they are normalized before comparing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import GitRepo, make_repo
from difftest_harness import cli_env, oracle, under_test

# The commits of gto-interop.md: cN adds f_cN, dated 2024-01-0N 12:00 UTC.
COMMIT_SHAS = [
    "80bdc7698bc8f0996ddb163b93f104937af47b14",
    "2170983607b177b2fa6b1ac23f68fb3241b943c7",
    "42fa0455dd7110b06c9e4ffb9f925b76edb5aa1f",
    "1cdb3b87d0342b4b7c02a404fe814000f77bfe81",
    "6683b7309b0a7044499311d7c044682073e0f200",
    "a636920b5d9f3eb64e0a73e1d48a5dd0518f5ad6",
    "af00d779973a47be299b95a64cffc25ce52b58b5",
]


@dataclass(frozen=True)
class Step:
    """One Part B step: gto's argv, stagetag's argv with its own names, and in gto's form."""

    label: str
    gto: list[str]
    own: list[str] | None = None  # None: the same argv as gto
    at: int | None = None  # check out commit cN first
    lightweight: str | None = None  # create this lightweight tag at HEAD first


STEPS = [
    Step("B1", ["register", "m"], at=1),
    Step("B3", ["register", "m"], at=2),
    Step("B4", ["register", "m", "--bump-minor"], at=3),
    Step("B5", ["register", "m", "--version", "v1.2.3-rc.1+b.7", "-m", "custom msg"], at=4),
    Step("B6", ["register", "m", "--simple", "false"], at=5),
    Step("B7", ["assign", "m", "--stage", "prod", "--version", "v0.0.2"]),
    Step("B9", ["assign", "m", "--stage", "dev", "--version", "v0.1.0", "--simple", "true"]),
    Step("B10", ["assign", "m", "--stage", "staging"], at=6),
    Step("B11", ["assign", "m", "--stage", "staging", "--sr"], at=7),
    Step(
        "B12", ["deprecate", "m", "v0.0.2", "prod"], ["unassign", "m", "v0.0.2", "--stage", "prod"]
    ),
    Step("B13", ["deprecate", "m", "v0.1.0"], ["deregister", "m", "v0.1.0"]),
    Step("B14", ["register", "path/to:model", "HEAD~1"]),
    Step("B15", ["assign", "path/to:model", "--stage", "prod", "--version", "v0.0.1"]),
    Step("B16", ["register", "x", "--simple", "false"], lightweight="x#prod#41"),
    Step("B17", ["deprecate", "x"]),
    Step("B18", ["deprecate", "x", "--force"]),
]

# gto-interop.md, Part B: what the sequence must leave behind.
EXPECTED_TAGS = {
    "m@v0.0.1",
    "m@v0.0.2",
    "m@v0.1.0",
    "m@v1.2.3-rc.1+b.7",
    "m@v1.2.4#1",
    "m#prod#2",
    "m#dev",
    "m@v1.2.5",
    "m#staging#3",
    "m#staging#4",
    "m#prod!#5",
    "m@v0.1.0!",
    "path/to=model@v0.0.1",
    "path/to=model#prod#1",
    "x#prod#41",
    "x@v0.0.1#42",
    "x@deprecated",
    "x@deprecated#43",
}

_TAGGER_RE = re.compile(r"^(tagger .*>) (\d+) ([+-]\d{4})$", re.MULTILINE)
_ISO_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")


@dataclass(frozen=True)
class Written:
    """One repository after the sequence, with the environment its tools ran in."""

    label: str
    repo: GitRepo
    env: dict[str, str]


def _wait_for_next_second() -> None:
    """Every tag a step creates is then later, in whole seconds, than any earlier step's."""
    now = time.time()
    time.sleep(int(now) + 1 - now + 0.01)


_GTO_SESSION = r"""
import json, os, sys, traceback
from click.testing import CliRunner
from gto.cli import app
runner = CliRunner()
for line in sys.stdin:
    item = json.loads(line)
    os.chdir(item["cwd"])
    result = runner.invoke(app, item["argv"])
    error = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        error += "".join(traceback.format_exception(result.exception))
    print(json.dumps({"exit": result.exit_code, "stderr": error}), flush=True)
"""


class GtoSession:
    """gto's CLI in one long-lived interpreter (as cli_driver.py runs it, but one command at
    a time): a step then costs ~0.1 s instead of ~0.5 s of imports and fits in its second."""

    def __init__(self, script: Path, env: dict[str, str]) -> None:
        shebang = script.read_text().splitlines()[0]
        assert shebang.startswith("#!"), f"{script} is not a Python console script"
        self.proc = subprocess.Popen(
            [shebang[2:].strip(), "-c", _GTO_SESSION],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def start(self, argv: list[str], cwd: Path) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"argv": argv, "cwd": str(cwd)}) + "\n")
        self.proc.stdin.flush()

    def finish(self) -> tuple[int, str]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"the gto session died (exit {self.proc.poll()})"
        done = json.loads(line)
        return done["exit"], done["stderr"]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _run_step(
    step: Step,
    gto: GtoSession,
    repos: dict[str, GitRepo],
    stagetag: list[tuple[GitRepo, list[str]]],
    env: dict[str, str],
) -> None:
    for repo in repos.values():
        if step.at is not None:
            repo.git("checkout", "-q", "--detach", COMMIT_SHAS[step.at - 1])
        if step.lightweight is not None:
            repo.lightweight_tag(step.lightweight, "HEAD")
    _wait_for_next_second()
    procs = [
        subprocess.Popen(
            argv, cwd=repo.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for repo, argv in stagetag
    ]
    gto.start(step.gto, repos["gto"].path)
    code, err = gto.finish()
    assert code == 0, f"{step.label}: gto {step.gto} -> {code}\n{err}"
    for proc, (repo, argv) in zip(procs, stagetag, strict=True):
        out, error = proc.communicate(timeout=60)
        assert proc.returncode == 0, (
            f"{step.label} in {repo.path.name}: {argv} -> {proc.returncode}\n{out!r}\n{error!r}"
        )


def write_part_b(tmp_path_factory: pytest.TempPathFactory) -> list[Written]:
    """Run the whole sequence in the three repositories, step by step."""
    gto, stagetag = oracle(), under_test()
    home = tmp_path_factory.mktemp("home-writes")
    env = cli_env(home)
    base = tmp_path_factory.mktemp("writes")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        first = make_repo(base / "gto")
        shas = [first.commit(f"c{i}", f"2024-01-0{i}T12:00:00+0000") for i in range(1, 8)]
        assert shas == COMMIT_SHAS
        repos = {"gto": first}
        for label in ("stagetag", "stagetag-gto-forms"):
            shutil.copytree(first.path, base / label, symlinks=True)
            repos[label] = GitRepo(base / label)
        started = int(time.time())
        session = GtoSession(gto.script, env)
        try:
            for step in STEPS:
                runs = [
                    (repos["stagetag"], [str(stagetag.script), *(step.own or step.gto)]),
                    (repos["stagetag-gto-forms"], [str(stagetag.script), *step.gto]),
                ]
                _run_step(step, session, repos, runs, env)
        finally:
            session.close()
        for repo in repos.values():
            for line in repo.git(
                "for-each-ref", "--format=%(taggerdate:unix)", "refs/tags"
            ).split():
                assert started <= int(line) <= time.time(), f"{repo.path.name}: tagger date {line}"
    return [Written(label, repo, env) for label, repo in repos.items()]


def tag_names(repo: GitRepo) -> set[str]:
    return set(repo.git("tag", "-l").splitlines())


def tag_objects(repo: GitRepo) -> dict[str, str]:
    """Each tag's raw object (the commit for a lightweight tag), the tagger's time replaced."""
    names = sorted(tag_names(repo))
    out = subprocess.run(
        ["git", "cat-file", "--batch"],
        cwd=repo.path,
        input="".join(f"refs/tags/{name}\n" for name in names).encode(),
        capture_output=True,
        check=True,
    ).stdout
    objects, pos = {}, 0
    for name in names:
        eol = out.index(b"\n", pos)
        size = int(out[pos:eol].split()[2])
        raw = out[eol + 1 : eol + 1 + size].decode()
        objects[name] = _TAGGER_RE.sub(r"\1 <epoch> \3", raw)
        pos = eol + 1 + size + 1
    return objects


def check_tag_names(written: list[Written]) -> None:
    for result in written:
        assert tag_names(result.repo) == EXPECTED_TAGS, result.label


def check_tag_objects(written: list[Written]) -> None:
    """Same target, type, name, tagger and verbatim message (no trailing newline)."""
    expected = tag_objects(written[0].repo)
    assert expected["m@v0.0.1"].endswith("\n\nRegistering artifact m version v0.0.1")
    for result in written[1:]:
        got = tag_objects(result.repo)
        for name in sorted(EXPECTED_TAGS):
            assert got[name] == expected[name], f"{result.label}: {name}"


def _gto_reads(result: Written) -> list[str]:
    argvs = [
        ["show", "--json"],
        ["show", "-d", "--json"],
        ["show", "m", "--json"],
        ["show", "path/to:model", "--json"],
        ["show", "x", "-d", "--json"],
        ["show", "m#staging", "--version"],
        ["show", "m#prod", "--version"],
        ["history", "--json"],
        *[["check-ref", name, "--json"] for name in sorted(EXPECTED_TAGS)],
    ]
    outcomes = oracle().run(argvs, result.repo.path, result.env)
    texts = []
    for argv, outcome in zip(argvs, outcomes, strict=True):
        assert outcome.exit == 0, f"{result.label}: gto {argv}: {outcome.stderr}"
        texts.append(f"$ gto {' '.join(argv)}\n" + _ISO_RE.sub("<TS>", outcome.stdout.decode()))
    return texts


def check_gto_reads(written: list[Written]) -> None:
    """gto's show, history and check-ref of stagetag's tags equal those of its own tags."""
    with ThreadPoolExecutor(len(written)) as pool:  # one gto interpreter per repository
        expected, *others = pool.map(_gto_reads, written)
    assert '"staging": "af00d779973a47be299b95a64cffc25ce52b58b5"' in expected[0]
    for result, got in zip(written[1:], others, strict=True):
        for want, have in zip(expected, got, strict=True):
            assert have == want, result.label


def check_stagetag_reads(written: list[Written]) -> None:
    """stagetag's own view of its tags equals gto's view of gto's tags."""
    argvs = [["show", "--json"], ["show", "m#prod", "--version"], ["history", "m", "--json"]]
    expected = oracle().run(argvs, written[0].repo.path, written[0].env)
    for result in written[1:]:
        got = under_test().run(argvs, result.repo.path, result.env)
        for argv, want, have in zip(argvs, expected, got, strict=True):
            assert have.exit == want.exit == 0, (argv, have.stderr)
            assert _ISO_RE.sub("<TS>", have.stdout.decode()) == _ISO_RE.sub(
                "<TS>", want.stdout.decode()
            ), (result.label, argv)


def test_part_b_written_by_stagetag_reads_in_gto_as_written_by_gto(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """One test, so that xdist never builds the (slow, ~1 s per step) sequence twice."""
    written = write_part_b(tmp_path_factory)
    check_tag_names(written)
    check_tag_objects(written)
    check_gto_reads(written)
    check_stagetag_reads(written)


def test_deprecation_goes_on_gtos_commit_when_a_commit_is_newer_than_the_tags(
    tmp_path: Path,
) -> None:
    env = cli_env(tmp_path / "home")
    gto_repo = make_repo(tmp_path / "gto")
    c1 = gto_repo.commit("c1", "2024-03-01T12:00:00+0000")
    c2 = gto_repo.commit("c2", "2024-03-02T12:00:00+0000")
    gto_repo.tag("m@v0.0.1", c1, "2024-02-01T00:00:00+0000")
    gto_repo.tag("m@v0.0.2", c2, "2024-02-02T00:00:00+0000")
    gto_repo.tag("m#prod#1", c1, "2024-02-03T00:00:00+0000")
    shutil.copytree(gto_repo.path, tmp_path / "stagetag", symlinks=True)
    ours = GitRepo(tmp_path / "stagetag")
    gto_done = oracle().run([["deprecate", "m"]], gto_repo.path, env)[0]
    our_done = under_test().run([["deprecate", "m"]], ours.path, env, batch=False)[0]
    assert gto_done.exit == our_done.exit == 0, (gto_done.stderr, our_done.stderr)
    assert gto_repo.git("rev-parse", "m@deprecated^{commit}") == c2  # the newest commit event
    assert ours.git("rev-parse", "m@deprecated^{commit}") == c2


# --------------------------------------------------------------------------------------------
# -d/--delete and deprecate --ref: gto and stagetag on copies of one repository


@dataclass(frozen=True)
class Case:
    """A write that deletes tags or places a deprecation, run by gto and by stagetag."""

    argv: list[str]
    gone: frozenset[str]  # the tags gto deletes
    made: frozenset[str] = frozenset()  # the tags it creates


DELETE_TAGS = [
    # (name, commit index, date)
    ("m@v0.0.1", 0, "2024-02-01"),
    ("m@v0.0.2", 1, "2024-02-02"),
    ("m@v0.0.3", 2, "2024-02-03"),
    ("m#prod#1", 0, "2024-02-04"),
    ("m#dev#2", 1, "2024-02-05"),
    ("m#prod#3", 1, "2024-02-06"),
    ("m#prod!#4", 1, "2024-02-07"),
    ("m#staging#5", 1, "2024-02-08"),
    ("m@v0.0.3!", 2, "2024-02-09"),
    ("n@v0.0.1", 0, "2024-02-10"),
    ("n#prod#1", 0, "2024-02-11"),
    ("n@deprecated", 0, "2024-02-12"),
]
M_TAGS = {name for name, _, _ in DELETE_TAGS if name.startswith("m")}

DELETE_CASES = [
    Case(["deprecate", "m", "v0.0.2", "prod", "-d"], frozenset({"m#prod#3", "m#prod!#4"})),
    Case(
        ["deprecate", "m", "v0.0.2", "--delete"],
        frozenset({"m@v0.0.2", "m#dev#2", "m#prod#3", "m#prod!#4", "m#staging#5"}),
    ),
    Case(["deprecate", "m", "-d"], frozenset(M_TAGS)),
    Case(["deprecate", "m", "v0.0.1", "prod", "-d"], frozenset({"m#prod#1"})),
    # never assigned: with --force, nothing to delete
    Case(["deprecate", "m", "v0.0.1", "staging", "-d", "--force"], frozenset()),
    Case(["deprecate", "m", "--ref", "HEAD~1"], frozenset(), frozenset({"m@deprecated"})),
    Case(
        ["deprecate", "m", "--ref", "HEAD~2", "--force"],
        frozenset(),
        frozenset({"m@deprecated#6"}),
    ),
]


def _delete_fixture(base: Path) -> tuple[GitRepo, list[str]]:
    repo = make_repo(base)
    shas = [repo.commit(f"c{i}", f"2024-01-0{i}T12:00:00+0000") for i in (1, 2, 3)]
    for name, index, day in DELETE_TAGS:
        repo.tag(name, shas[index], f"{day}T00:00:00+0000")
    return repo, shas


def _copy(repo: GitRepo, path: Path) -> GitRepo:
    shutil.copytree(repo.path, path, symlinks=True)
    return GitRepo(path)


_READS = [["show", "-d", "--json"], ["show", "m", "-d", "--json"], ["history", "--json"]]


def _read_alike(theirs: GitRepo, ours: GitRepo, env: dict[str, str], label: str) -> None:
    """The same tags (objects, tagger time aside) and gto reads both repositories alike."""
    assert tag_names(ours) == tag_names(theirs), label
    assert tag_objects(ours) == tag_objects(theirs), label
    want = oracle().run(_READS, theirs.path, env)
    have = oracle().run(_READS, ours.path, env)
    mine = under_test().run(_READS, ours.path, env)
    for argv, w, h, m in zip(_READS, want, have, mine, strict=True):
        # (`show m` fails in both once every tag of m is gone)
        assert w.exit == h.exit == m.exit, (label, argv, h.stderr, m.stderr)
        expected = _ISO_RE.sub("<TS>", w.stdout.decode())
        assert _ISO_RE.sub("<TS>", h.stdout.decode()) == expected, (label, argv)
        assert _ISO_RE.sub("<TS>", m.stdout.decode()) == expected, (label, argv)


@pytest.mark.parametrize("case", DELETE_CASES, ids=[" ".join(c.argv) for c in DELETE_CASES])
def test_delete_and_ref_leave_what_gto_leaves(case: Case, tmp_path: Path) -> None:
    env = cli_env(tmp_path / "home")
    base, _ = _delete_fixture(tmp_path / "base")
    theirs, ours = _copy(base, tmp_path / "gto"), _copy(base, tmp_path / "stagetag")
    before = tag_names(base)
    gto_done = oracle().run([case.argv], theirs.path, env)[0]
    our_done = under_test().run([case.argv], ours.path, env, batch=False)[0]
    assert gto_done.exit == our_done.exit == 0, (gto_done.stderr, our_done.stderr)
    assert tag_names(theirs) == (before - case.gone) | case.made  # what gto did, as read
    for made in case.made:
        target = theirs.git("rev-parse", f"{made}^{{commit}}")
        assert ours.git("rev-parse", f"{made}^{{commit}}") == target
    _read_alike(theirs, ours, env, " ".join(case.argv))
    if case.gone:
        assert our_done.stdout.decode().splitlines()[: len(case.gone)] == [
            f"Deleted git tag '{name}'" for name in sorted(case.gone, key=_tag_date)
        ]


def _tag_date(name: str) -> str:
    return next(day for tag, _, day in DELETE_TAGS if tag == name)


@pytest.mark.parametrize(
    "argv",
    [
        ["deprecate", "m", "v0.0.2", "prod", "-d", "--push"],
        ["deprecate", "m", "v0.0.2", "-d", "--push"],
        ["deprecate", "m", "-d", "--push"],
    ],
    ids=["unassign", "deregister", "deprecate"],
)
def test_delete_push_leaves_the_remote_as_gto_leaves_it(argv: list[str], tmp_path: Path) -> None:
    """gto deletes the tags on origin too (`git push --delete`); stagetag's remote ends with
    the same tags (plus its refs/stagetag/ bookkeeping, which gto never reads)."""
    env = cli_env(tmp_path / "home")
    base, _ = _delete_fixture(tmp_path / "base")
    remotes = {}
    for label in ("gto", "stagetag"):
        bare = tmp_path / f"{label}.git"
        subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
        base.git("push", "-q", str(bare), "main", "--tags")
        clone = tmp_path / f"{label}-clone"
        subprocess.run(["git", "clone", "-q", str(bare), str(clone)], check=True)
        remotes[label] = (bare, GitRepo(clone))
    gto_done = oracle().run([argv], remotes["gto"][1].path, env)[0]
    our_done = under_test().run([argv], remotes["stagetag"][1].path, env, batch=False)[0]
    assert gto_done.exit == our_done.exit == 0, (gto_done.stderr, our_done.stderr)

    def remote_tags(bare: Path) -> dict[str, str]:
        out = GitRepo(bare).git("for-each-ref", "--format=%(refname) %(objectname)", "refs/tags")
        return dict(line.split(" ") for line in out.splitlines())

    assert remote_tags(remotes["stagetag"][0]) == remote_tags(remotes["gto"][0])
    assert len(remote_tags(remotes["gto"][0])) < len(DELETE_TAGS)
    fresh = {}
    for label, (bare, _) in remotes.items():
        subprocess.run(["git", "clone", "-q", str(bare), str(tmp_path / f"{label}-fresh")])
        fresh[label] = GitRepo(tmp_path / f"{label}-fresh")
    _read_alike(fresh["gto"], fresh["stagetag"], env, " ".join(argv))
    # and the clone that deleted agrees with its remote
    assert tag_names(remotes["stagetag"][1]) == tag_names(fresh["stagetag"])


@pytest.mark.parametrize(
    ("argv", "gone"),
    [
        (["deprecate", "m", "v0.0.3", "-d"], {"m@v0.0.3", "m@v0.0.3!"}),
        (["deprecate", "n", "-d"], {"n@v0.0.1", "n#prod#1", "n@deprecated"}),
    ],
    ids=["deregistered-version", "deprecated-artifact"],
)
def test_delete_of_what_is_already_retired(argv: list[str], gone: set[str], tmp_path: Path) -> None:
    """A documented difference: gto refuses to delete the tags of a deregistered version or a
    deprecated artifact without --force (and with --force it deletes them); stagetag deletes
    them without, so that a cleanup can run again. With --force both do the same."""
    env = cli_env(tmp_path / "home")
    base, _ = _delete_fixture(tmp_path / "base")
    theirs, ours = _copy(base, tmp_path / "gto"), _copy(base, tmp_path / "stagetag")
    refused = oracle().run([argv], theirs.path, env)[0]
    assert refused.exit == 1
    assert tag_names(theirs) == tag_names(base)
    our_done = under_test().run([argv], ours.path, env, batch=False)[0]
    assert our_done.exit == 0, our_done.stderr
    assert tag_names(ours) == tag_names(base) - gone
    forced = oracle().run([[*argv, "--force"]], theirs.path, env)[0]
    assert forced.exit == 0, forced.stderr
    _read_alike(theirs, ours, env, " ".join(argv))


def test_doctor_prints_gtos_report(tmp_path: Path) -> None:
    """Everything but the version line is gto's, for a repository without `.gto`, with and
    without emojis and with GTO_* settings."""
    base, _ = _delete_fixture(tmp_path / "base")
    for extra in ({}, {"GTO_EMOJIS": "false", "GTO_STAGES": '["dev", "prod"]'}):
        env = {**cli_env(tmp_path / "home"), **extra}
        want = oracle().run([["doctor"]], base.path, env)[0]
        have = under_test().run([["doctor"]], base.path, env, batch=False)[0]
        assert want.exit == have.exit == 0, (want.stderr, have.stderr)
        w, h = want.stdout.decode().splitlines(), have.stdout.decode().splitlines()
        assert w[0].endswith("GTO Version: 1.10.1"), w[0]
        prefix = w[0].removesuffix("GTO Version: 1.10.1")
        assert re.fullmatch(
            re.escape(prefix) + r"stagetag Version: \S+ \(GTO 1\.10\.1 compatible\)", h[0]
        )
        assert h[1:] == w[1:], extra
        assert len(w) == 13


def test_doctor_fails_where_gto_fails(tmp_path: Path) -> None:
    """A tag gto cannot read makes both exit 1; stagetag names it on stdout."""
    base, shas = _delete_fixture(tmp_path / "base")
    base.tag("m@created", shas[0], "2024-03-01T00:00:00+0000")
    env = cli_env(tmp_path / "home")
    want = oracle().run([["doctor"]], base.path, env)[0]
    have = under_test().run([["doctor"]], base.path, env, batch=False)[0]
    assert want.exit == have.exit == 1, (want.stderr, have.stderr)
    assert "m@created" in have.stdout.decode().splitlines()[-1]
    assert "No issues found" not in have.stdout.decode()


def test_verbose_changes_no_output(tmp_path: Path) -> None:
    """gto's -v prints nothing more (its debug messages go to a logger no one hears); stagetag's
    stdout is the same with and without it, and its stderr lists the git commands it ran."""
    base, _ = _delete_fixture(tmp_path / "base")
    env = cli_env(tmp_path / "home")
    argvs = [["show", "--json"], ["history", "m", "--json"], ["stages"]]
    plain = oracle().run(argvs, base.path, env)
    for cli in (oracle(), under_test()):
        verbose = cli.run([["-v", *argv] for argv in argvs], base.path, env, batch=False)
        for argv, want, have in zip(argvs, plain, verbose, strict=True):
            assert have.exit == want.exit == 0, (cli.label, argv, have.stderr)
            assert have.stdout == want.stdout, (cli.label, argv)
    traced = under_test().run([["-v", "show", "--json"]], base.path, env, batch=False)[0]
    assert "stagetag: debug: git -C" in traced.stderr and "for-each-ref" in traced.stderr
