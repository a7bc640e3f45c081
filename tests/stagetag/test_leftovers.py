"""A write that pushes first deals with the artifact's tags this clone has and the remote lacks:
it pushes the ones still valid, drops the ones that lost their race, and never says "nothing
to do" because of a tag only this clone has. Real clones of a real bare remote throughout."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shlex
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SUMMARY, GitRepo, clean_environ, run_stagetag
from test_publish import (
    _COUNTER_RE,
    Origin,
    _hook,
    clone,
    make_origin,
    new_work,
    remote_tags,
    tags,
)

from stagetag.gitio import read_tags
from stagetag.leftovers import sort_out

PROD_V1 = ("assign", "m", "--stage", "prod", "--version", "v0.0.1")


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    return make_origin(tmp_path)


def holder(origin: Origin, stage: str) -> str:
    """Who holds `stage` of m on the remote, as stagetag reads the bare repository."""
    found = run_stagetag("show", f"m#{stage}", "--version", "-r", str(origin.bare), cwd=origin.bare)
    assert found.returncode == 0, found.stderr
    return found.stdout.strip()


def local_tags_all_on_the_remote(repo: GitRepo, origin: Origin) -> None:
    remote = remote_tags(origin.bare)
    for name in tags(repo):
        assert repo.git("rev-parse", f"refs/tags/{name}") == remote.get(name), name


def test_an_unpushed_assignment_is_pushed_before_nothing_to_do(
    origin: Origin, tmp_path: Path
) -> None:
    """The issue's case: `assign` without --push, then `assign --push` of the same."""
    repo = clone(origin.bare, tmp_path / "work")
    run_stagetag(*PROD_V1, cwd=repo.path, check=True)
    assert "m#prod#5" not in remote_tags(origin.bare)
    result = run_stagetag(*PROD_V1, "--push", cwd=repo.path, check=True)
    assert result.stdout.splitlines() == [
        "Pushed git tag 'm#prod#5' to origin, left here by an earlier run.",
        "Nothing to do: m v0.0.1 already holds stage prod",
    ]
    assert holder(origin, "prod") == "v0.0.1"
    local_tags_all_on_the_remote(repo, origin)


def test_leftovers_are_in_the_json_and_go_before_the_plan(origin: Origin, tmp_path: Path) -> None:
    """A leftover registration and assignment (a killed run's two tags) go first, in order;
    then the new write plans after them."""
    repo = new_work(origin, tmp_path / "work")
    run_stagetag("assign", "m", "--stage", "prod", cwd=repo.path, check=True)
    result = run_stagetag(*PROD_V1, "--push", "--json", cwd=repo.path, check=True)
    record = json.loads(result.stdout)
    assert record["recovered"] == ["m@v0.0.4", "m#prod#5"]
    assert record["tags"] == ["m#prod#6"]
    assert record["dropped"] == []
    assert holder(origin, "prod") == "v0.0.1"
    local_tags_all_on_the_remote(repo, origin)


def test_a_leftover_whose_counter_was_taken_lost_and_is_dropped(
    origin: Origin, tmp_path: Path
) -> None:
    """This clone made m#prod#5 and never pushed it; a rival pushed m#staging#5 since. The
    leftover lost its race: it goes (named, with how to restore it) and is not pushed."""
    repo, rival = clone(origin.bare, tmp_path / "work"), clone(origin.bare, tmp_path / "rival")
    run_stagetag("assign", "m", "--stage", "prod", "--version", "v0.0.2", cwd=repo.path, check=True)
    lost = repo.git("rev-parse", "refs/tags/m#prod#5")
    run_stagetag("assign", "m", "--stage", "staging", "--version", "v0.0.1", "--push",
                 cwd=rival.path, check=True)  # fmt: skip
    result = run_stagetag(*PROD_V1, "--push", cwd=repo.path, check=True)
    assert result.stdout.splitlines()[0] == (
        f"Dropped local tag 'm#prod#5': 'origin' took its place first "
        f"(git tag -f 'm#prod#5' {lost} restores it)"
    )
    remote = remote_tags(origin.bare)
    assert "m#prod#5" not in remote and "m#prod#6" in remote
    assert holder(origin, "prod") == "v0.0.1"
    local_tags_all_on_the_remote(repo, origin)


def test_a_leftover_that_would_make_a_commit_hold_two_versions_is_dropped(
    origin: Origin, tmp_path: Path
) -> None:
    """A leftover registration of a commit the remote has since registered as another
    version would make GTO skip that commit's stage tags: it lost."""
    repo = clone(origin.bare, tmp_path / "work")
    new = repo.commit("c-new")
    repo.git("push", "-q", "origin", "HEAD:refs/heads/new")
    rival = clone(origin.bare, tmp_path / "rival")
    run_stagetag("register", "m", new, "--version", "v0.1.0", cwd=repo.path, check=True)
    run_stagetag("register", "m", new, "--version", "v0.2.0", "--push", cwd=rival.path, check=True)
    result = run_stagetag("assign", "m", "--stage", "prod", "--push", cwd=repo.path, check=True)
    assert result.stdout.startswith("Dropped local tag 'm@v0.1.0'")
    assert "m@v0.1.0" not in remote_tags(origin.bare)
    assert holder(origin, "prod") == "v0.2.0"
    local_tags_all_on_the_remote(repo, origin)


def test_a_dry_run_says_what_it_would_do_with_leftovers_and_does_nothing(
    origin: Origin, tmp_path: Path
) -> None:
    repo = clone(origin.bare, tmp_path / "work")
    run_stagetag(*PROD_V1, cwd=repo.path, check=True)
    before = remote_tags(origin.bare)
    result = run_stagetag(*PROD_V1, "--push", "--dry-run", cwd=repo.path, check=True)
    assert result.stdout.splitlines()[0] == (
        "Would push git tag 'm#prod#5' to origin, left here by an earlier run."
    )
    assert remote_tags(origin.bare) == before
    assert "m#prod#5" in tags(repo)


PROTECTED = "promotion:\n  protected:\n    prod:\n      actors: [bot]\n"


@pytest.mark.parametrize(
    "leftover",
    [
        ("assign", "m", "--stage", "prod", "--version", "v0.0.2"),
        ("deregister", "m", "v0.0.1"),  # would move prod off v0.0.1
        ("deprecate", "m"),  # would take prod away
    ],
    ids=["assign", "deregister", "deprecate"],
)
def test_a_leftover_the_policy_forbids_is_refused_and_nothing_is_pushed(
    origin: Origin, tmp_path: Path, leftover: tuple[str, ...]
) -> None:
    """Leftovers are checked like a plan, on the remote's state without them: eve's local
    tag touching prod (made by hand, as `git tag` would) never reaches the remote through a
    write of hers to another stage."""
    seed = clone(origin.bare, tmp_path / "seed")
    (seed.path / "stagetag.yaml").write_text(PROTECTED)
    seed.git("add", "stagetag.yaml")
    seed.git("commit", "-q", "-m", "protect prod")
    seed.git("push", "-q", "origin", "HEAD:main")
    run_stagetag(*PROD_V1, "--push", "--actor", "bot", cwd=seed.path, check=True)
    repo = clone(origin.bare, tmp_path / "work")
    run_stagetag(*leftover, "--actor", "bot", cwd=repo.path, check=True)  # made locally
    made = tags(repo) - set(remote_tags(origin.bare))
    before = remote_tags(origin.bare)
    result = run_stagetag(
        "assign", "m", "--stage", "dev", "--version", "v0.0.3", "--push", "--actor", "eve",
        cwd=repo.path,
    )  # fmt: skip
    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    [name] = made
    assert line.startswith(
        f"stagetag: error: local tag {name!r}, left by an earlier run, is not on 'origin', and "
        "stage 'prod' is protected: only bot may change it (actor: eve)"
    )
    assert f"(git tag -d {shlex.quote(name)}) to go on" in line
    assert remote_tags(origin.bare) == before


def test_only_tags_a_write_here_made_are_leftovers(origin: Origin, tmp_path: Path) -> None:
    """Lightweight tags, other artifacts' (`m/b`, `dir:m`), names that are not GTO's, tags
    made by hand and a tag object under another ref's name are never pushed; only the
    annotated event tags of the artifact that no write here made are named, as ignored."""
    repo = clone(origin.bare, tmp_path / "work")
    run_stagetag("assign", "m", "--stage", "dev", "--version", "v0.0.3", cwd=repo.path, check=True)
    repo.git("tag", "m#dev#14", "m#dev#5")  # the same object under another name
    repo.git("tag", "-d", "m#dev#5")
    c1 = origin.shas[0]
    repo.lightweight_tag("m#prod#9", c1)
    for name in ("m/b@v1.0.0", "dir=m@v1.0.0", "m#prod#9x", "m#qa#12"):
        repo.tag(name, c1, "2024-03-01T00:00:00+0000")
    on_remote = frozenset(n for n in remote_tags(origin.bare) if n.startswith(("m@", "m#")))
    found = sort_out(read_tags(repo.path), on_remote, frozenset({"m#dev#14"}), "m")
    assert found == ((), (), ("m#qa#12", "m#dev#14"))


def test_a_tag_deleted_on_the_remote_is_not_pushed_back(origin: Origin, tmp_path: Path) -> None:
    """A rollback by deleting a tag on the remote (plain git, or GTO's --delete) holds: a clone
    that still has it warns and leaves it out, and never pushes it again."""
    repo = clone(origin.bare, tmp_path / "work")
    subprocess.run(["git", "-C", str(origin.bare), "tag", "-d", "m#dev#4"], check=True)
    result = run_stagetag(*PROD_V1, "--push", cwd=repo.path, check=True)
    assert result.stderr == (
        "stagetag: warning: local tag 'm#dev#4' is not on 'origin' and no stagetag run here "
        "made it (made by hand, or deleted there); it is left out: push or delete it yourself\n"
    )
    remote = remote_tags(origin.bare)
    assert "m#dev#4" not in remote and "m#prod#5" in remote
    assert holder(origin, "dev") == ""


def test_a_write_that_fails_pushes_no_leftover(origin: Origin, tmp_path: Path) -> None:
    repo = clone(origin.bare, tmp_path / "work")
    run_stagetag(*PROD_V1, cwd=repo.path, check=True)
    before = remote_tags(origin.bare)
    failed = run_stagetag(
        "assign", "m", "--stage", "prod", "--version", "v9.9.9", "--push", cwd=repo.path
    )
    assert failed.returncode == 1
    assert "'v9.9.9' of 'm' is not registered" in failed.stderr
    assert remote_tags(origin.bare) == before


def test_a_leftover_the_write_deletes_never_reaches_the_remote(
    origin: Origin, tmp_path: Path
) -> None:
    """`unassign --delete --push` of a stage tag that only this clone has deletes it here;
    the remote never sees it (its hook logs every ref it is sent)."""
    _hook(origin, '#!/bin/sh\ncat >> "$GIT_DIR/sent.log"\n')
    repo = clone(origin.bare, tmp_path / "work")
    run_stagetag("assign", "m", "--stage", "prod", "--version", "v0.0.2", cwd=repo.path, check=True)
    result = run_stagetag(
        "unassign", "m", "v0.0.2", "--stage", "prod", "--delete", "--push", "--json",
        cwd=repo.path, check=True,
    )  # fmt: skip
    record = json.loads(result.stdout)
    assert record["deleted"] == ["m#prod#5"] and record["recovered"] == []
    sent = origin.bare / "sent.log"
    assert not sent.exists() or "m#prod#5" not in sent.read_text()
    assert "m#prod#5" not in tags(repo)


def test_leftovers_in_a_row_are_checked_with_the_ones_before(
    origin: Origin, tmp_path: Path
) -> None:
    """With `order: [staging, prod]`, a staging leftover lets the prod leftover after it in."""
    seed = clone(origin.bare, tmp_path / "seed")
    (seed.path / "stagetag.yaml").write_text("promotion:\n  order: [staging, prod]\n")
    seed.git("add", "stagetag.yaml")
    seed.git("commit", "-q", "-m", "order")
    seed.git("push", "-q", "origin", "HEAD:main")
    repo = clone(origin.bare, tmp_path / "work")
    for stage in ("staging", "prod"):
        run_stagetag("assign", "m", "--stage", stage, "--version", "v0.0.2", cwd=repo.path,
                     check=True)  # fmt: skip
    result = run_stagetag("assign", "m", "--stage", "dev", "--version", "v0.0.3", "--push",
                          "--json", cwd=repo.path, check=True)  # fmt: skip
    assert json.loads(result.stdout)["recovered"] == ["m#staging#5", "m#prod#6"]
    assert holder(origin, "prod") == "v0.0.2"


def test_a_dry_run_leaves_a_local_tag_that_differs_as_it_is(origin: Origin, tmp_path: Path) -> None:
    """It says it would take the remote's, plans as if it were gone, and changes nothing."""
    repo = clone(origin.bare, tmp_path / "work")
    repo.git("tag", "-d", "m#dev#4")
    repo.tag("m#dev#4", origin.shas[1], "2024-03-01T00:00:00+0000", "mine")
    mine = repo.git("rev-parse", "refs/tags/m#dev#4")
    result = run_stagetag(*PROD_V1, "--push", "--dry-run", cwd=repo.path, check=True)
    assert result.stdout.startswith("Would drop local tag 'm#dev#4'")
    assert "Would create git tag 'm#prod#5'" in result.stdout
    assert repo.git("rev-parse", "refs/tags/m#dev#4") == mine


# --------------------------------------------------------------------------------------------
# the kill test: a run killed at any moment never makes a later run lie


SLOW_HOOK = "#!/bin/sh\ncat > /dev/null\nsleep 0.$(( $(od -An -N1 -tu1 /dev/urandom) % 5 + 1 ))\n"
KILLS = 36


def intents(repo: GitRepo, rng: random.Random) -> Callable[[], tuple[list[str], str | None]]:
    """A random write each time: a stage for an existing version, or for a new commit
    (registration and assignment: two pushes, so a kill can fall between them)."""

    def draw() -> tuple[list[str], str | None]:
        stage = rng.choice(["prod", "staging"])
        if rng.random() < 0.3:
            commit = repo.commit(f"new-{rng.random()}")
            return ["assign", "m", "--stage", stage, "--push"], commit
        version = rng.choice(["v0.0.1", "v0.0.2", "v0.0.3"])
        return ["assign", "m", "--stage", stage, "--version", version, "--push"], None

    return draw


def test_killed_pushes_never_make_a_later_run_lie(
    origin: Origin, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """Kill -9 an `assign --push` at a random moment (only stagetag, leaving its git
    running, or its whole process group, as a cancelled CI job), then run it again: each
    time the remote ends holding what was asked, and no local tag is missing from it."""
    _hook(origin, SLOW_HOOK)
    repo = clone(origin.bare, tmp_path / "work")
    rng = random.Random(int(os.environ.get("STAGETAG_KILL_SEED", "0")) or None)
    draw = intents(repo, rng)
    env = clean_environ()
    left_behind = 0
    for _ in range(KILLS):
        argv, commit = draw()
        proc = subprocess.Popen(
            ["stagetag", *argv], cwd=repo.path, env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(0.05, 1.2))
        whole_group = rng.random() < 0.5
        with contextlib.suppress(ProcessLookupError):  # it may have finished
            os.killpg(proc.pid, signal.SIGKILL) if whole_group else proc.kill()
        proc.wait()
        left_behind += bool(tags(repo) - set(remote_tags(origin.bare)))
        rerun = run_stagetag(*argv, "--json", cwd=repo.path)
        assert rerun.returncode == 0, rerun.stderr
        stage = argv[3]
        wanted = (
            argv[5]
            if commit is None
            else repo.git("tag", "--points-at", commit, "--list", "m@v*").splitlines()[0][2:]
        )
        assert holder(origin, stage) == wanted, (argv, rerun.stdout)
        local_tags_all_on_the_remote(repo, origin)
    remote = remote_tags(origin.bare)
    counters = Counter(int(m[1]) for name in remote if (m := _COUNTER_RE.search(name)))
    assert [n for n, seen in counters.items() if seen > 1] == []
    record_property(
        SUMMARY, f"kill test: {KILLS} kills, {left_behind} left a tag the remote lacked"
    )
    assert left_behind > 0  # the kills did fall where a tag was made and not yet pushed
