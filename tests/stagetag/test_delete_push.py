"""`--delete --push` with real bare remotes: a remote tag goes only if it still is the object
this run saw, the local clone and the remote never disagree about the tags a run touched, a
lost race is planned again, and parallel deleters and writers leave a remote gto reads."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import GitRepo, start_stagetag
from test_publish import (
    Origin,
    assert_one_line_failure,
    clone,
    make_origin,
    no_check,
    remote_tags,
    stagetag,
    tags,
)

from stagetag import gitio
from stagetag.publish import apply, counter_ref
from stagetag.registry import Registry
from stagetag.writes import Plan, plan_assign, plan_delete_stage, plan_delete_version

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "differential"))
from difftest_harness import cli_env, oracle, under_test


def tombstones(bare: Path) -> dict[str, str]:
    out = GitRepo(bare).git("for-each-ref", "--format=%(refname) %(objectname)", "refs/stagetag")
    return {
        name.removeprefix("refs/stagetag/deleted/"): sha
        for name, _, sha in (line.partition(" ") for line in out.splitlines())
        if name.startswith("refs/stagetag/deleted/")
    }


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    return make_origin(tmp_path)


def test_delete_push_deletes_on_the_remote_then_here(origin: Origin, tmp_path: Path) -> None:
    mine = clone(origin.bare, tmp_path / "mine")
    before = remote_tags(origin.bare)
    counter = gitio.ref_value(origin.bare, counter_ref("m"))
    done = stagetag(mine, "deregister", "m", "v0.0.1", "--delete", "--push", "--json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["deleted"] == ["m@v0.0.1", "m#dev#4"]
    assert record["pushed"] is True and record["created"] is False
    remote = remote_tags(origin.bare)
    assert set(remote) == set(before) - {"m@v0.0.1", "m#dev#4"}
    assert tags(mine) == set(remote)
    # a tombstone per deleted tag, naming the object deleted; the counter moved
    assert tombstones(origin.bare) == {before[n]: before[n] for n in ("m@v0.0.1", "m#dev#4")}
    assert gitio.ref_value(origin.bare, counter_ref("m")) not in (None, counter)


def test_a_stale_clone_drops_what_the_remote_deleted_and_refuses_to_use_it(
    origin: Origin, tmp_path: Path
) -> None:
    """A clone made before the deletion still has the tags: its next --push run deletes them
    (the tombstones say so), keeps its own unpushed tags, and plans without them."""
    mine, stale = clone(origin.bare, tmp_path / "mine"), clone(origin.bare, tmp_path / "stale")
    stale.tag("m#qa", origin.shas[2], "2024-03-01T00:00:00+0000")  # local only, never pushed
    assert stagetag(mine, "deregister", "m", "v0.0.1", "-d", "--push").returncode == 0
    refused = stagetag(stale, "assign", "m", "--version", "v0.0.1", "--stage", "prod", "--push")
    assert_one_line_failure(refused, "'v0.0.1'", "not registered")
    assert tags(stale) == set(remote_tags(origin.bare)) | {"m#qa"}
    done = stagetag(stale, "assign", "m", "--version", "v0.0.2", "--stage", "prod", "--push")
    assert done.returncode == 0, done.stderr


def test_without_push_only_local_tags_go_and_gtos_push_line_is_printed(
    origin: Origin, tmp_path: Path
) -> None:
    mine = clone(origin.bare, tmp_path / "mine")
    before = remote_tags(origin.bare)
    done = stagetag(mine, "unassign", "m", "v0.0.1", "--stage", "dev", "-d")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Deleted git tag 'm#dev#4'",
        "To push the changes upstream, run:",
        "    git push --delete origin 'm#dev#4'",
    ]
    assert remote_tags(origin.bare) == before
    assert tags(mine) == set(before) - {"m#dev#4"}


def test_dry_run_deletes_nothing(origin: Origin, tmp_path: Path) -> None:
    mine = clone(origin.bare, tmp_path / "mine")
    before = tags(mine)
    done = stagetag(mine, "deprecate", "m", "-d", "--push", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "Would delete git tag 'm#dev#4'" in done.stdout.splitlines()
    assert tags(mine) == before == set(remote_tags(origin.bare))


def test_a_tag_that_moved_on_the_remote_is_not_deleted(origin: Origin, tmp_path: Path) -> None:
    """The remote's m#dev#4 is replaced (same name, another object) after this run fetched:
    the lease refuses the deletion, the run takes the remote's tag, plans again from it and
    ends with a clear error (the stage is no longer on v0.0.1), having deleted nothing."""
    mine, rival = clone(origin.bare, tmp_path / "mine"), clone(origin.bare, tmp_path / "rival")
    calls: list[int] = []

    def planner(registry: Registry) -> Plan:
        if not calls:
            rival.git("tag", "-d", "m#dev#4")
            rival.tag("m#dev#4", origin.shas[1], "2024-03-01T00:00:00+0000", "replaced")
            rival.git("push", "-q", "--force", "origin", "refs/tags/m#dev#4")
        calls.append(1)
        return plan_delete_stage(registry, "m", "v0.0.1", "dev")

    before_remote = remote_tags(origin.bare)
    with pytest.raises(gitio.StagetagError, match=r"parallel run .* never assigned to m v0\.0\.1"):
        apply(mine.path, "m", planner, no_check, push=True)
    remote = remote_tags(origin.bare)
    assert remote["m#dev#4"] != before_remote["m#dev#4"]  # the rival's, untouched
    assert remote["m@v0.0.1"] == before_remote["m@v0.0.1"]
    assert mine.git("rev-parse", "refs/tags/m#dev#4") == remote["m#dev#4"]


def test_a_deletion_loses_to_an_assignment_and_deletes_it_too(
    origin: Origin, tmp_path: Path
) -> None:
    """A rival assigns a stage to v0.0.1 after this run planned the version's deletion: the
    counter's compare-and-swap refuses the deletion, and the new plan deletes the rival's tag
    as well, so that no stage is left on a version without a registration."""
    mine, rival = clone(origin.bare, tmp_path / "mine"), clone(origin.bare, tmp_path / "rival")
    planned: list[list[str]] = []

    def planner(registry: Registry) -> Plan:
        if not planned:
            theirs = apply(
                rival.path,
                "m",
                lambda r: plan_assign(r, "m", "prod", version="v0.0.1"),
                no_check,
                push=True,
            )
            assert [t.name for t in theirs.created] == ["m#prod#5"]
        plan = plan_delete_version(registry, "m", "v0.0.1")
        planned.append([d.name for d in plan.deletes])
        return plan

    outcome = apply(mine.path, "m", planner, no_check, push=True)
    assert planned == [["m@v0.0.1", "m#dev#4"], ["m@v0.0.1", "m#dev#4", "m#prod#5"]]
    assert [d.name for d in outcome.deleted] == planned[-1]
    remote = remote_tags(origin.bare)
    assert not {"m@v0.0.1", "m#dev#4", "m#prod#5"} & set(remote)
    assert tags(mine) == set(remote)


def test_an_assignment_that_loses_to_a_deletion_says_so(origin: Origin, tmp_path: Path) -> None:
    mine, rival = clone(origin.bare, tmp_path / "mine"), clone(origin.bare, tmp_path / "rival")
    calls: list[int] = []

    def planner(registry: Registry) -> Plan:
        if not calls:
            apply(rival.path, "m", lambda r: plan_delete_version(r, "m", "v0.0.1"), no_check, True)
        calls.append(1)
        return plan_assign(registry, "m", "prod", version="v0.0.1")

    with pytest.raises(gitio.StagetagError) as raised:
        apply(mine.path, "m", planner, no_check, push=True)
    assert str(raised.value) == (
        "a parallel run changed 'origin' first, and now version 'v0.0.1' of 'm' is not registered"
    )
    assert tags(mine) == set(remote_tags(origin.bare))


def test_a_hook_refusing_the_deletion_leaves_both_sides_as_they_were(
    origin: Origin, tmp_path: Path
) -> None:
    hook = origin.bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'no deletions here' >&2\nexit 1\n")
    hook.chmod(0o755)
    mine = clone(origin.bare, tmp_path / "mine")
    before = remote_tags(origin.bare)
    failed = stagetag(mine, "deprecate", "m", "-d", "--push")
    assert_one_line_failure(failed, "refused to delete", "no deletions here")
    assert remote_tags(origin.bare) == before
    assert tags(mine) == set(before)


def test_a_protected_stage_is_not_deleted_by_others(origin: Origin, tmp_path: Path) -> None:
    mine = clone(origin.bare, tmp_path / "mine")
    (mine.path / "stagetag.yaml").write_text(
        "promotion:\n  protected:\n    dev:\n      actors: [release-bot]\n"
    )
    refused = stagetag(mine, "deregister", "m", "v0.0.1", "-d", "--actor", "mallory")
    assert_one_line_failure(refused, "'dev' is protected", "mallory")
    done = stagetag(mine, "deregister", "m", "v0.0.1", "-d", "--actor", "release-bot")
    assert done.returncode == 0, done.stderr


# --------------------------------------------------------------------------------------------
# the parallel race: deleters and writers in many clones against one bare remote

RACE: list[tuple[str, list[str]]] = [
    ("del-v1", ["deregister", "m", "v0.0.1", "--delete"]),
    ("del-v1-again", ["deregister", "m", "v0.0.1", "--delete"]),
    ("del-dev-v1", ["unassign", "m", "v0.0.1", "--stage", "dev", "--delete"]),
    ("prod-v1", ["assign", "m", "--stage", "prod", "--version", "v0.0.1"]),
    ("prod-v2", ["assign", "m", "--stage", "prod", "--version", "v0.0.2"]),
    ("staging-v3", ["assign", "m", "--stage", "staging", "--version", "v0.0.3"]),
    ("del-staging-v3", ["unassign", "m", "v0.0.3", "--stage", "staging", "--delete"]),
    ("dev-v2", ["assign", "m", "--stage", "dev", "--version", "v0.0.2"]),
    ("deprecate-v3", ["deprecate", "m", "v0.0.3"]),
    ("reg", ["register", "m", "--version", "v0.1.0"]),  # on a commit of its own
]


@pytest.mark.xdist_group("delete-race")
def test_parallel_deletes_and_writes(tmp_path: Path) -> None:
    """Ten clones at once. Every run exits 0, or 1 with one line that names the conflict;
    every clone agrees with the remote about the tags it has; what a deleter deleted is
    gone, unless a later run made it anew; and gto reads the remote as stagetag does."""
    home = tmp_path / "home"
    env = cli_env(home)
    origin = make_origin(tmp_path)
    clones = [clone(origin.bare, tmp_path / label) for label, _ in RACE]
    clones[-1].commit("reg")
    before = remote_tags(origin.bare)
    procs = [
        start_stagetag([*argv, "--push", "--json"], repo.path, env)
        for (_, argv), repo in zip(RACE, clones, strict=True)
    ]
    results = [(proc, *proc.communicate(timeout=120)) for proc in procs]
    remote = remote_tags(origin.bare)
    deleted = set(tombstones(origin.bare))
    conflicts = []
    for (label, _), repo, (proc, out, err) in zip(RACE, clones, results, strict=True):
        assert "Traceback" not in err, (label, err)
        if proc.returncode == 0:
            record = json.loads(out)
            for name in record["tags"]:  # pushed, and still there unless deleted since
                sha = repo.git("rev-parse", f"refs/tags/{name}")
                assert remote.get(name) == sha or sha in deleted, (label, name)
            for name in record.get("deleted", []):
                assert name not in tags(repo), (label, name)
        else:
            assert proc.returncode == 1, (label, err)
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("stagetag: error: "), (label, err)
            assert any(
                word in lines[0] for word in ("parallel run", "not registered", "never assigned")
            ), (label, lines[0])
            conflicts.append(label)
        # every tag the clone has is the remote's, or one a run that ended later deleted there
        for name in tags(repo):
            sha = repo.git("rev-parse", f"refs/tags/{name}")
            assert remote.get(name) == sha or sha in deleted, (label, name)
    # the first deleter of v0.0.1 to push won; the version is gone, stage tags and all
    assert not {"del-v1", "del-v1-again"} <= set(conflicts)
    # (its counter may be used again, as gto does once the highest #N is gone)
    assert "m@v0.0.1" not in remote and remote.get("m#dev#4") != before["m#dev#4"]
    # a stage tag never points at a commit whose version's registration was deleted
    registered = {
        GitRepo(origin.bare).git("rev-parse", f"refs/tags/{n}^{{commit}}")
        for n in remote
        if n.startswith("m@v") and not n.endswith("!")
    }
    for name in remote:
        if "#" in name:
            target = GitRepo(origin.bare).git("rev-parse", f"refs/tags/{name}^{{commit}}")
            assert target in registered, name
    fresh = clone(origin.bare, tmp_path / "fresh")
    argvs = [["show", "--json"], ["show", "m", "--json"], ["history", "--json"]]
    ours = under_test().run(argvs, fresh.path, env)
    theirs = oracle().run(argvs, fresh.path, env)
    for argv, want, got in zip(argvs, theirs, ours, strict=True):
        assert want.exit == got.exit == 0, (argv, want.stderr, got.stderr)
        assert got.stdout == want.stdout, argv
