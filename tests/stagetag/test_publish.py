"""Pushing with real bare remotes: parallel runs never collide, a lost race is planned again,
and every failure is one line that leaves no local tag the remote does not have."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import GitRepo, make_repo, require, run_stagetag, start_stagetag, stop

from stagetag import gitio
from stagetag.errors import StagetagError
from stagetag.publish import apply, counter_ref
from stagetag.registry import Registry
from stagetag.writes import Plan, plan_assign

# The gto oracle and its helpers live with the differential tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "differential"))
from difftest_harness import cli_env, oracle, under_test

# --------------------------------------------------------------------------------------------
# helpers


@dataclass(frozen=True)
class Origin:
    """A bare remote holding `m` v0.0.1..v0.0.3 (c1..c3), pushed from a seed repository."""

    bare: Path
    shas: tuple[str, ...]


def _build_origin(base: Path) -> Origin:
    bare = base / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    seed = make_repo(base / "seed")
    shas = tuple(seed.commit(f"c{i}", f"2024-01-0{i}T12:00:00+0000") for i in (1, 2, 3))
    for index, sha in enumerate(shas, start=1):
        seed.tag(f"m@v0.0.{index}", sha, f"2024-02-0{index}T00:00:00+0000")
    seed.tag("m#dev#4", shas[0], "2024-02-10T00:00:00+0000")
    seed.git("push", "-q", str(bare), "main", "--tags")
    return Origin(bare, shas)


_TEMPLATE: dict[str, Origin] = {}


def make_origin(base: Path) -> Origin:
    """A copy of a remote built once per worker: v0.0.1..v0.0.3 on c1..c3, and `m#dev#4`
    on c1 so that the next counter is 5."""
    home = str(base.parent)  # pytest's temporary folder of this worker
    if home not in _TEMPLATE:
        _TEMPLATE[home] = _build_origin(base.parent / "origin-template")
    template = _TEMPLATE[home]
    bare = base / "origin.git"
    shutil.copytree(template.bare, bare, symlinks=True)
    return Origin(bare, template.shas)


def clone(url: str | Path, path: Path) -> GitRepo:
    subprocess.run(["git", "clone", "-q", str(url), str(path)], check=True, capture_output=True)
    return GitRepo(path)


def tags(repo: GitRepo) -> set[str]:
    return set(repo.git("tag", "-l").splitlines())


def remote_tags(bare: Path) -> dict[str, str]:
    """Tag name -> tag object id, as `git ls-remote --tags` reports them."""
    out = subprocess.run(
        ["git", "ls-remote", "--tags", str(bare)], check=True, capture_output=True, text=True
    ).stdout
    found = {}
    for line in out.splitlines():
        sha, ref = line.split("\t")
        if not ref.endswith("^{}"):
            found[ref.removeprefix("refs/tags/")] = sha
    return found


def stagetag(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return run_stagetag(*args, cwd=repo.path)


def assert_one_line_failure(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Non-zero exit, one `stagetag: error:` line on stderr, no traceback; returns the line."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("stagetag: error: ")
    for word in words:
        assert word in lines[0]
    return lines[0]


def no_check(registry: Registry, plan: Plan) -> None:
    """publish.apply's policy hook, with no policy."""


_COUNTER_RE = re.compile(r"#(\d+)$")

# --------------------------------------------------------------------------------------------
# concurrency: the acceptance test

JOBS: list[tuple[str, list[str], bool]] = [
    # (label, command, makes a commit of its own first)
    ("prod-v1", ["assign", "m", "--stage", "prod", "--version", "v0.0.1"], False),
    ("prod-v2", ["assign", "m", "--stage", "prod", "--version", "v0.0.2"], False),
    ("prod-v3", ["assign", "m", "--stage", "prod", "--version", "v0.0.3"], False),
    ("staging-v1", ["assign", "m", "--stage", "staging", "--version", "v0.0.1"], False),
    ("dev-v2", ["assign", "m", "--stage", "dev", "--version", "v0.0.2"], False),
    ("new-prod-a", ["assign", "m", "--stage", "prod"], True),
    ("new-prod-b", ["assign", "m", "--stage", "prod"], True),
    ("new-qa-a", ["assign", "m", "--stage", "qa"], True),
    ("new-qa-b", ["assign", "m", "--stage", "qa"], True),
    ("new-reg-a", ["register", "m"], True),
    ("new-reg-b", ["register", "m"], True),
]


@dataclass(frozen=True)
class Run:
    label: str
    repo: GitRepo
    commit: str | None
    report: dict[str, Any]


# git translated to German: what a user with LANGUAGE=de sees, and what stagetag must not read.
GERMAN = {"LANGUAGE": "de", "LANG": "C.UTF-8", "LC_ALL": ""}


# Liveness: fifty writers, the eleven jobs over and over; an assignment of a version is forced
# (a redeploy), so that each run has something to write whatever came first, and each run's
# message is its own: two runs of the same write in the same second make one and the same tag
# object, which lands once for both.
FIFTY = [
    (
        f"{label}-{i}",
        [*argv, "-m", f"{label}-{i}", *(["--force"] if "--version" in argv else [])],
        new,
    )
    for i in range(50)
    for label, argv, new in [JOBS[i % len(JOBS)]]
]


def race(
    tmp_path_factory: pytest.TempPathFactory,
    language: dict[str, str] | None = None,
    jobs: list[tuple[str, list[str], bool]] = JOBS,
    timeout: float = 90,
) -> tuple[Origin, list[Run], GitRepo]:
    """One clone per job, all pushing at once (with `language`'s locale settings); then a
    fresh clone of the remote to read it back."""
    base = tmp_path_factory.mktemp("race")
    home = tmp_path_factory.mktemp("home-race")
    env = {**cli_env(home), **(language or {})}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        origin = make_origin(base)
        clones = []
        for label, _, commits in jobs:
            repo = clone(origin.bare, base / label)
            clones.append((repo, repo.commit(label) if commits else None))
        procs = [
            start_stagetag([*argv, "--push", "--json"], repo.path, env)
            for (_, argv, _), (repo, _) in zip(jobs, clones, strict=True)
        ]
        outputs = [proc.communicate(timeout=timeout) for proc in procs]
        failed = [
            f"{label}: {argv} -> {proc.returncode}: {err}"
            for (label, argv, _), proc, (_, err) in zip(jobs, procs, outputs, strict=True)
            if proc.returncode != 0
        ]
        assert not failed, "\n".join(failed)
        runs = [
            Run(label, repo, commit, json.loads(out))
            for (label, _, _), (repo, commit), (out, _) in zip(jobs, clones, outputs, strict=True)
        ]
        fresh = clone(origin.bare, base / "fresh")
    return origin, runs, fresh


def check_every_parallel_run_pushed_what_it_reported(
    raced: tuple[Origin, list[Run], GitRepo],
) -> None:
    origin, runs, _ = raced
    remote = remote_tags(origin.bare)
    for run in runs:
        assert run.report["created"] is True, run
        assert run.report["pushed"] is True, run
        assert run.report["tags"], run
        for name in run.report["tags"]:
            assert name in remote, (run.label, name)
            assert run.repo.git("rev-parse", f"refs/tags/{name}") == remote[name]


def check_counters_are_unique_and_every_run_got_its_change(
    raced: tuple[Origin, list[Run], GitRepo],
) -> None:
    origin, runs, _ = raced
    remote = remote_tags(origin.bare)
    counters = Counter(int(m[1]) for name in remote if (m := _COUNTER_RE.search(name)))
    assert [n for n, seen in counters.items() if seen > 1] == []
    reported = {name for run in runs for name in run.report["tags"]}
    assignments = [run for run in runs if run.report["event"] == "assignment"]
    # every run planned from the remote's newest state, so no number was skipped either
    assert sorted(counters) == list(range(4, 5 + len(assignments)))
    assert len({run.report["tags"][-1] for run in assignments}) == len(assignments)
    # each new commit got exactly one version, and versions are not shared
    registrations = {
        name: gitio.resolve_commit(origin.bare, f"refs/tags/{name}")
        for name in remote
        if name.startswith("m@v")
    }
    for run in runs:
        if run.commit is not None:
            assert list(registrations.values()).count(run.commit) == 1, run.label
    assert len(registrations) == 3 + sum(run.commit is not None for run in runs)
    assert set(remote) - reported <= {"m#dev#4"} | set(registrations)


def check_no_clone_keeps_a_tag_the_remote_does_not_have(
    raced: tuple[Origin, list[Run], GitRepo],
) -> None:
    origin, runs, _ = raced
    remote = remote_tags(origin.bare)
    for run in runs:
        assert tags(run.repo) <= set(remote), run.label
        for name in tags(run.repo):
            assert run.repo.git("rev-parse", f"refs/tags/{name}") == remote[name], name
    # the counter ref names the last tag pushed
    counter = gitio.ref_value(origin.bare, counter_ref("m"))
    assert counter in remote.values()


def check_the_remote_reads_alike_and_the_last_prod_assignment_wins(
    raced: tuple[Origin, list[Run], GitRepo],
) -> None:
    """gto (when installed) and stagetag read a fresh clone alike, and the prod holder is
    the version of the prod assignment tag with the newest tagger time."""
    _, runs, fresh = raced
    env = cli_env(fresh.path.parent / "home-read")
    argvs = [["show", "m#prod", "--version"], ["show", "--json"], ["show", "m", "--json"]]
    ours = under_test().run(argvs, fresh.path, env)
    assert all(out.exit == 0 for out in ours), [out.stderr for out in ours]
    dated = [
        line.split(" ")
        for line in fresh.git(
            "for-each-ref", "--format=%(refname:strip=2) %(taggerdate:unix)", "refs/tags"
        ).splitlines()
    ]
    prod = sorted((int(when), name) for name, when in dated if re.fullmatch(r"m#prod#\d+", name))
    assert len(prod) == sum("prod" in run.label for run in runs)
    assert prod[-1][0] > prod[-2][0], f"two prod assignments in the newest second: {prod}"
    versions = {run.report["tags"][-1]: run.report["version"] for run in runs}
    assert ours[0].stdout.decode() == f"{versions[prod[-1][1]]}\n"
    try:
        gto = oracle()
    except pytest.skip.Exception:
        return  # the stagetag half above still ran
    theirs = gto.run(argvs, fresh.path, env)
    for argv, want, got in zip(argvs, theirs, ours, strict=True):
        assert want.exit == 0, (argv, want.stderr)
        assert got.stdout == want.stdout, argv


def test_parallel_pushes_never_collide(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The acceptance test: eleven clones push at once. One test, so that xdist never runs
    the race twice."""
    raced = race(tmp_path_factory)
    check_every_parallel_run_pushed_what_it_reported(raced)
    check_counters_are_unique_and_every_run_got_its_change(raced)
    check_no_clone_keeps_a_tag_the_remote_does_not_have(raced)
    check_the_remote_reads_alike_and_the_last_prod_assignment_wins(raced)


def test_fifty_parallel_writers_all_land(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Liveness: fifty clones write at once (a third of them to prod, so that each of those
    must wait for a second of its own); every one lands, with the same guarantees."""
    raced = race(tmp_path_factory, jobs=FIFTY, timeout=600)
    check_every_parallel_run_pushed_what_it_reported(raced)
    check_counters_are_unique_and_every_run_got_its_change(raced)
    check_no_clone_keeps_a_tag_the_remote_does_not_have(raced)
    check_the_remote_reads_alike_and_the_last_prod_assignment_wins(raced)


def test_parallel_pushes_land_under_a_translated_git(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """Lost races are told from the remote's refs, never from git's (here German) words."""
    probe = subprocess.run(
        ["git", "rev-parse", "--verify", "no-such-rev"],
        cwd=tmp_path,
        env={**os.environ, **GERMAN},
        capture_output=True,
        text=True,
    )
    require(
        not probe.stderr.startswith("fatal:"),
        "git's German translation",
        "install git's translations (Debian's git package ships them)",
    )
    raced = race(tmp_path_factory, GERMAN)
    check_every_parallel_run_pushed_what_it_reported(raced)
    check_counters_are_unique_and_every_run_got_its_change(raced)
    check_no_clone_keeps_a_tag_the_remote_does_not_have(raced)


# --------------------------------------------------------------------------------------------
# a lost race, step by step


@pytest.mark.parametrize("rival_stage", ["prod", "staging"])
def test_a_lost_race_is_planned_again_with_a_fresh_counter(
    tmp_path: Path, rival_stage: str
) -> None:
    """A rival pushes #5 after this run fetched and before it pushes its own #5: the same
    tag name (prod) is refused by the remote, a different one (staging) by the counter's
    compare-and-swap. Either way this run fetches, plans #6 and succeeds."""
    origin = make_origin(tmp_path)
    mine = clone(origin.bare, tmp_path / "mine")
    rival = clone(origin.bare, tmp_path / "rival")
    planned: list[str] = []

    def planner(registry: Registry) -> Plan:
        if not planned:
            theirs = apply(
                rival.path,
                "m",
                lambda r: plan_assign(r, "m", rival_stage, version="v0.0.1"),
                no_check,
                push=True,
            )
            assert [t.name for t in theirs.created] == [f"m#{rival_stage}#5"]
        plan = plan_assign(registry, "m", "prod", version="v0.0.2")
        planned.extend(t.name for t in plan.tags)
        return plan

    outcome = apply(mine.path, "m", planner, no_check, push=True)
    assert planned == ["m#prod#5", "m#prod#6"]
    assert [t.name for t in outcome.created] == ["m#prod#6"]
    assert outcome.pushed
    remote = remote_tags(origin.bare)
    assert {f"m#{rival_stage}#5", "m#prod#6"} <= set(remote)
    for name in tags(mine):
        assert mine.git("rev-parse", f"refs/tags/{name}") == remote[name], name


def test_without_attempts_left_a_lost_race_is_an_error_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    origin = make_origin(tmp_path)
    mine = clone(origin.bare, tmp_path / "mine")
    rival = clone(origin.bare, tmp_path / "rival")
    before = tags(mine)

    def planner(registry: Registry) -> Plan:
        apply(
            rival.path,
            "m",
            lambda r: plan_assign(r, "m", "staging", version="v0.0.1"),
            no_check,
            push=True,
        )
        return plan_assign(registry, "m", "prod", version="v0.0.2")

    with pytest.raises(StagetagError, match="gave up after 1 attempts"):
        apply(mine.path, "m", planner, no_check, push=True, attempts=1)
    assert tags(mine) == before
    assert "m#prod#5" not in remote_tags(origin.bare)


@pytest.fixture
def rival_between_pushes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Origin, GitRepo, str]:
    """A clone whose first push (a registration) succeeds, after which a rival takes the
    counter before the clone pushes its second tag (the assignment)."""
    origin = make_origin(tmp_path)
    mine = clone(origin.bare, tmp_path / "mine")
    rival = clone(origin.bare, tmp_path / "rival")
    new = mine.commit("c-new")
    real_push = gitio.push
    state = {"pushes": 0, "rival": False}

    def push(repo: Path, remote: str, refspecs: Any, leases: Any = ()) -> gitio.PushResult:
        result = real_push(repo, remote, refspecs, leases)
        if Path(repo) == mine.path:
            state["pushes"] += 1
            if state["pushes"] == 1 and not state["rival"]:
                state["rival"] = True
                apply(
                    rival.path,
                    "m",
                    lambda r: plan_assign(r, "m", "staging", version="v0.0.1"),
                    no_check,
                    push=True,
                )
        return result

    monkeypatch.setattr(gitio, "push", push)
    return origin, mine, new


def test_a_race_lost_after_the_registration_was_pushed(
    rival_between_pushes: tuple[Origin, GitRepo, str],
) -> None:
    origin, mine, new = rival_between_pushes
    outcome = apply(
        mine.path, "m", lambda r: plan_assign(r, "m", "prod", commit=new), no_check, push=True
    )
    remote = remote_tags(origin.bare)
    assert "m#staging#5" in remote  # the rival's
    assert gitio.resolve_commit(origin.bare, "refs/tags/m@v0.0.4") == new
    assert outcome.created[-1].name == "m#prod#6"
    assert gitio.resolve_commit(origin.bare, "refs/tags/m#prod#6") == new
    assert "m#prod#5" not in remote
    assert tags(mine) <= set(remote)


def test_a_retry_still_reports_the_registration_it_pushed(
    rival_between_pushes: tuple[Origin, GitRepo, str],
) -> None:
    _, mine, new = rival_between_pushes
    outcome = apply(
        mine.path, "m", lambda r: plan_assign(r, "m", "prod", commit=new), no_check, push=True
    )
    assert [t.name for t in outcome.created] == ["m@v0.0.4", "m#prod#6"]


# --------------------------------------------------------------------------------------------
# faults: one line, non-zero exit, no local tag left behind


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    return make_origin(tmp_path)


def new_work(origin: Origin, path: Path) -> GitRepo:
    """A clone with an unregistered commit: `assign --stage prod` plans two tags."""
    repo = clone(origin.bare, path)
    repo.commit("c-new")
    return repo


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


ASSIGN = ("assign", "m", "--stage", "prod", "--push")


def test_a_local_tag_that_differs_from_the_remotes_loses_and_is_named(
    origin: Origin, tmp_path: Path
) -> None:
    """A local m@v0.0.1 on another commit than the remote's lost its race: the write takes
    the remote's, says so with the command that restores the old one, and goes on."""
    repo = new_work(origin, tmp_path / "work")
    repo.git("tag", "-d", "m@v0.0.1")
    repo.tag("m@v0.0.1", repo.git("rev-parse", "HEAD"), "2024-03-01T00:00:00+0000", "mine")
    mine = repo.git("rev-parse", "refs/tags/m@v0.0.1")
    result = run_stagetag(*ASSIGN, cwd=repo.path, check=True)
    restore = f"git tag -f m@v0.0.1 {mine} restores it"
    assert (
        f"Dropped local tag 'm@v0.0.1': 'origin' took its place first ({restore})"
        in (result.stdout.splitlines()[0])
    )
    remote = remote_tags(origin.bare)
    assert repo.git("rev-parse", "refs/tags/m@v0.0.1") == remote["m@v0.0.1"] != mine
    repo.git("tag", "-f", "m@v0.0.1", mine)  # the advice works
    assert repo.git("rev-parse", "refs/tags/m@v0.0.1") == mine
    assert "m#prod#5" in remote


@pytest.mark.parametrize("where", ["missing-path", "closed-port"])
def test_unreachable_remote(origin: Origin, tmp_path: Path, where: str) -> None:
    repo = new_work(origin, tmp_path / "work")
    url = (
        str(tmp_path / "missing.git")
        if where == "missing-path"
        else f"git://127.0.0.1:{free_port()}/x"
    )
    repo.git("remote", "set-url", "origin", url)
    before = tags(repo)
    assert_one_line_failure(stagetag(repo, *ASSIGN))
    assert tags(repo) == before


@pytest.mark.parametrize("where", ["missing-path", "no-origin"])
def test_unreachable_remote_error_says_why(origin: Origin, tmp_path: Path, where: str) -> None:
    repo = new_work(origin, tmp_path / "work")
    if where == "no-origin":
        repo.git("remote", "remove", "origin")
    else:
        repo.git("remote", "set-url", "origin", str(tmp_path / "missing.git"))
    assert_one_line_failure(stagetag(repo, *ASSIGN), "does not appear to be a git repository")


def test_unreachable_push_url_removes_the_tags_it_made(origin: Origin, tmp_path: Path) -> None:
    """Fetching works and the tags are made, then the push fails: both are deleted again."""
    repo = new_work(origin, tmp_path / "work")
    repo.git("remote", "set-url", "--push", "origin", str(tmp_path / "missing.git"))
    before = tags(repo)
    line = assert_one_line_failure(stagetag(repo, *ASSIGN), "'origin'")
    assert "does not appear to be a git repository" in line
    assert tags(repo) == before


def _hook(origin: Origin, script: str) -> None:
    hook = origin.bare / "hooks" / "pre-receive"
    hook.write_text(script)
    hook.chmod(0o755)


def test_push_rejected_by_a_hook(origin: Origin, tmp_path: Path) -> None:
    _hook(origin, "#!/bin/sh\necho 'tags are frozen for the release' >&2\nexit 1\n")
    repo = new_work(origin, tmp_path / "work")
    before, remote_before = tags(repo), remote_tags(origin.bare)
    assert_one_line_failure(stagetag(repo, *ASSIGN), "pre-receive hook declined")
    assert tags(repo) == before
    assert remote_tags(origin.bare) == remote_before


def test_push_rejected_by_a_hook_shows_the_hooks_reason(origin: Origin, tmp_path: Path) -> None:
    _hook(origin, "#!/bin/sh\necho 'tags are frozen for the release' >&2\nexit 1\n")
    repo = new_work(origin, tmp_path / "work")
    assert_one_line_failure(stagetag(repo, *ASSIGN), "tags are frozen for the release")


def test_hook_refusing_only_the_assignment_leaves_the_clone_like_the_remote(
    origin: Origin, tmp_path: Path
) -> None:
    """The registration is accepted and stays; the refused assignment is deleted locally."""
    _hook(
        origin,
        "#!/bin/sh\n"
        "while read old new ref; do\n"
        '  case "$ref" in *"#prod"*) echo "prod is closed" >&2; exit 1;; esac\n'
        "done\n"
        "exit 0\n",
    )
    repo = new_work(origin, tmp_path / "work")
    assert_one_line_failure(stagetag(repo, *ASSIGN), "pre-receive hook declined")
    remote = remote_tags(origin.bare)
    assert "m@v0.0.4" in remote
    assert tags(repo) == set(remote)


@pytest.fixture
def read_only_daemon(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`git daemon` serving a folder read-only (receive-pack is off by default)."""
    exec_path = subprocess.run(
        ["git", "--exec-path"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not (Path(exec_path) / "git-daemon").exists():
        pytest.skip("git daemon is not installed")
    served = tmp_path / "served"
    served.mkdir()
    port = free_port()
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            f"--base-path={served}",
            "--export-all",
            f"--port={port}",
            "--listen=127.0.0.1",
            str(served),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"git daemon did not start (exit {proc.poll()})")
                time.sleep(0.05)
        yield f"git://127.0.0.1:{port}", served
    finally:
        stop(proc, timeout=5)


def test_remote_without_write_permission(
    read_only_daemon: tuple[str, Path], tmp_path: Path
) -> None:
    url, served = read_only_daemon
    origin = make_origin(tmp_path / "o")
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(origin.bare), str(served / "repo.git")],
        check=True,
        capture_output=True,
    )
    repo = clone(f"{url}/repo.git", tmp_path / "work")
    repo.commit("c-new")
    assert tags(repo) == {"m@v0.0.1", "m@v0.0.2", "m@v0.0.3", "m#dev#4"}
    before = tags(repo)
    assert_one_line_failure(stagetag(repo, *ASSIGN), "'origin'")
    assert tags(repo) == before
    assert_one_line_failure(
        stagetag(repo, "assign", "m", "--stage", "qa", "--version", "v0.0.1", "--push")
    )
    assert tags(repo) == before


def test_push_without_a_remote_named_origin(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alone")
    repo.commit("c1")
    assert_one_line_failure(stagetag(repo, "register", "m", "--push"))
    assert tags(repo) == set()


def test_a_token_in_the_remote_url_never_becomes_a_ref_name(origin: Origin, tmp_path: Path) -> None:
    """A push to a URL with credentials (as a CI might give it) keeps its counter refs under a
    name that holds no part of the token."""
    repo = new_work(origin, tmp_path / "work")
    url = f"file://user:S3CR3T-T0KEN@{origin.bare}"  # git ignores file:// userinfo
    result = run_stagetag(
        "assign", "m", "--stage", "prod", "--push", "--remote", url, cwd=repo.path
    )
    assert result.returncode == 0, result.stderr
    refs = repo.git("for-each-ref", "--format=%(refname)")
    assert "refs/stagetag/remotes/url-" in refs
    assert "S3CR3T" not in refs
    leaked = [p for p in (repo.path / ".git").rglob("*") if "S3CR3T" in p.name]
    assert leaked == []
