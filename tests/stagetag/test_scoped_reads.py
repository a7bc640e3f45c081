"""One-artifact commands read only that artifact's tags (issue 12): `for-each-ref` gets the
artifact's patterns, a write fetches only its tags and counter, and what they answer is what
the whole registry answers for that artifact."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import GitRepo, make_repo, run_stagetag

from stagetag import gitio
from stagetag.grammar import Shortcut, name_to_tag, parse_tag
from stagetag.registry import Registry, load_registry, tag_prefixes
from stagetag.views import (
    ShowOptions,
    artifact_view,
    check_ref_events,
    history_view,
    ref_artifacts,
)
from stagetag.writes import next_counter

# Names that extend one another (`a`, `a/b`, `a-b`, `ab`), folders, and `/` in stages.
NAMES = ["a", "a/b", "a/b/c", "a-b", "ab", "dir:a", "dir.x/sub:a", "dir:a/b"]
STAGES = ["prod", "team/prod"]


@pytest.fixture(scope="module")
def registry_repo(tmp_path_factory: pytest.TempPathFactory) -> GitRepo:
    """Each artifact's versions, stage tags (counter and simple forms), an unassignment, a
    deprecation, a lightweight GTO-named tag and non-GTO tags with its prefix; the first half
    of the artifacts in packed-refs, the rest as loose refs."""
    repo = make_repo(tmp_path_factory.mktemp("scoped") / "repo")
    commits = [repo.commit(f"c{i}", f"2024-01-0{i}T12:00:00+0000") for i in (1, 2, 3)]
    for index, name in enumerate(NAMES):
        tag = name_to_tag(name)
        when = f"2024-02-{index + 1:02d}T"
        repo.tag(f"{tag}@v0.0.1", commits[0], f"{when}01:00:00+0000")
        repo.tag(f"{tag}@v0.0.2#2", commits[1], f"{when}02:00:00+0000")
        repo.tag(f"{tag}#{STAGES[0]}#3", commits[0], f"{when}03:00:00+0000")
        repo.tag(f"{tag}#{STAGES[1]}#4", commits[1], f"{when}03:00:00+0000")  # a tie
        repo.tag(f"{tag}#{STAGES[0]}!#5", commits[0], f"{when}04:00:00+0000")
        repo.tag(f"{tag}#{STAGES[0]}", commits[2], f"{when}05:00:00+0000")  # a SHA version
        repo.lightweight_tag(f"{tag}#{STAGES[0]}#{9 + index}", commits[1])
        repo.tag(f"{tag}@weird", commits[0], f"{when}06:00:00+0000")  # not GTO's
        if index % 3 == 0:
            repo.tag(f"{tag}@deprecated", commits[2], f"{when}07:00:00+0000")
        if index == len(NAMES) // 2:
            repo.git("pack-refs", "--all")
    repo.tag("release-1.0", commits[2], "2024-03-01T00:00:00+0000")
    return repo


def scoped(repo: GitRepo, name: str, with_commits: bool = True) -> Registry:
    only = frozenset([name])
    return load_registry(repo.path, with_commits, annotate=only, artifacts=only)


@pytest.mark.parametrize("name", NAMES)
def test_an_artifact_reads_exactly_the_tags_named_after_it(
    registry_repo: GitRepo, name: str
) -> None:
    every = list(gitio.read_tags(registry_repo.path))
    prefixes = tuple(tag_prefixes([name]))
    own = list(gitio.read_tags(registry_repo.path, prefixes))
    assert own == [t for t in every if t.name.startswith(prefixes)]
    gto_tags = {t.name for t in every if (p := parse_tag(t.name)) and p.artifact == name}
    assert gto_tags == {t.name for t in own if parse_tag(t.name)}
    assert len(gto_tags) == 7 + (NAMES.index(name) % 3 == 0)


@pytest.mark.parametrize("name", NAMES)
def test_one_artifact_answers_what_the_whole_registry_answers(
    registry_repo: GitRepo, name: str
) -> None:
    whole = load_registry(registry_repo.path, annotate=frozenset([name]))
    own = scoped(registry_repo, name)
    assert list(own.state.artifacts) == [name]
    for options in (ShowOptions(), ShowOptions(deprecated=True, versions_per_stage=-1)):
        assert artifact_view(own, Shortcut(name), options) == artifact_view(
            whole, Shortcut(name), options
        )
    assert list(history_view(own, name, False)) == list(history_view(whole, name, False))
    assert next_counter(own.tags, name) == next_counter(whole.tags, name) == 10 + NAMES.index(name)
    light = scoped(registry_repo, name, with_commits=False)
    for tag in whole.tags:
        if ref_artifacts([tag.name]) == {name}:
            assert check_ref_events(light, tag.name) == check_ref_events(whole, tag.name)


def listings(*args: str, cwd: Path) -> list[str]:
    """The `for-each-ref` commands a stagetag command ran (its -v lines)."""
    result = run_stagetag("-v", *args, cwd=cwd, check=True)
    return [line for line in result.stderr.splitlines() if " for-each-ref " in line]


def patterns(name: str) -> str:
    """The artifact's `for-each-ref` patterns, as -v shows them (shell-quoted)."""
    tag = name_to_tag(name)
    return f"'refs/tags/{tag}@*' 'refs/tags/{tag}@*/**' 'refs/tags/{tag}#*' 'refs/tags/{tag}#*/**'"


@pytest.mark.parametrize(
    "argv",
    [
        ["check-ref", "refs/tags/a/b#team/prod#4", "--json"],
        ["show", "a/b", "--json"],
        ["show", "a/b#prod", "--version"],
        ["history", "a/b", "--json"],
    ],
)
def test_one_artifact_commands_list_only_its_refs(registry_repo: GitRepo, argv: list[str]) -> None:
    [listing] = listings(*argv, cwd=registry_repo.path)
    assert listing.endswith(f"--format=%(objectname) %(refname)' {patterns('a/b')} (exit 0)")


def test_whole_registry_commands_list_every_tag(registry_repo: GitRepo) -> None:
    for argv in (["show", "--json"], ["history", "--json"]):
        [listing] = listings(*argv, cwd=registry_repo.path)
        assert listing.endswith("%(refname)' refs/tags (exit 0)")


def test_check_ref_of_a_branch_or_non_gto_tag_lists_no_tags(registry_repo: GitRepo) -> None:
    for ref in ("refs/heads/main", "release-1.0"):
        assert listings("check-ref", ref, cwd=registry_repo.path) == []


def test_a_write_fetches_only_its_artifacts_tags_and_counter(
    registry_repo: GitRepo, tmp_path: Path
) -> None:
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(registry_repo.path), str(bare)], check=True)
    work = GitRepo(tmp_path / "work")
    subprocess.run(["git", "clone", "-q", str(bare), str(work.path)], check=True)
    work.lightweight_tag("dir=a#prod#40", work.git("rev-parse", "HEAD"))  # local only
    made = []
    for version in ("v0.0.1", "v0.0.2"):
        assign = ["assign", "dir:a", "--version", version, "--stage", "qa", "--push"]
        result = run_stagetag("-v", *assign, cwd=work.path, check=True)
        [fetch] = [line for line in result.stderr.splitlines() if " fetch " in line]
        assert "refs/tags/*" not in fetch and "counters/*" not in fetch
        mirror = "refs/stagetag/remotes/origin/tags"
        assert (
            f"'+refs/tags/dir=a@*:{mirror}/dir=a@*' '+refs/tags/dir=a#*:{mirror}/dir=a#*'"
        ) in fetch
        assert "'+refs/stagetag/counters/dir=a*:refs/stagetag/remotes/origin/counters/dir=a*'" in (
            fetch
        )
        made += [line.split("'")[1] for line in result.stdout.splitlines() if "Created" in line]
    # counted over every tag of the artifact, lightweight and local-only ones included
    assert made == ["dir=a#qa#41", "dir=a#qa#42"]
    on_remote = subprocess.run(["git", "tag", "-l"], cwd=bare, capture_output=True, text=True)
    assert set(made) <= set(on_remote.stdout.split())


def test_a_tag_object_under_another_artifacts_name_counts_in_whole_reads_only(
    tmp_path: Path,
) -> None:
    """`git tag b@v1.0.0 a@v1.0.0` (then `git tag -d a@v1.0.0`): GTO files the event under
    `a`, the name inside the object. A whole-registry read does so too; a read of `a` lists
    only the refs named `a@...` and `a#...`, so it does not see it (README: Compatibility)."""
    repo = make_repo(tmp_path / "repo")
    sha = repo.commit("c1")
    repo.tag("a@v1.0.0", sha, "2024-01-01T00:00:00+0000")
    repo.git("tag", "b@v1.0.0", "a@v1.0.0")
    repo.git("tag", "-d", "a@v1.0.0")
    whole = load_registry(repo.path)
    assert [e.tag for e in whole.state.artifacts["a"].events if e.tag] == ["a@v1.0.0"]
    assert "b" not in whole.state.artifacts
    assert "a" not in scoped(repo, "a").state.artifacts
    assert "b" not in scoped(repo, "b").state.artifacts
