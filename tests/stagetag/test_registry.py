"""Registry state built from real repositories: GTO's semantics, and poison tags survived."""

from __future__ import annotations

from conftest import GitRepo

from stagetag.registry import load_registry
from stagetag.state import Artifact


def holder(artifact: Artifact, stage: str, sort: str = "timestamp") -> str | None:
    holders = artifact.stage_holders(sort="semver" if sort == "semver" else "timestamp")
    return holders[stage][0].version if stage in holders else None


def day(n: int) -> str:
    return f"2024-02-{n:02d}T00:00:00+0000"


def three_versions(repo: GitRepo) -> list[str]:
    commits = [repo.commit(f"c{i}", f"2024-01-0{i}T12:00:00+0000") for i in (1, 2, 3)]
    for i, sha in enumerate(commits, 1):
        repo.tag(f"m@v0.0.{i}", sha, day(i))
    return commits


def test_last_assignment_wins_and_unassignment_falls_back(repo: GitRepo) -> None:
    c1, c2, _ = three_versions(repo)
    repo.tag("m#prod#1", c1, day(4))
    repo.tag("m#prod#2", c2, day(5))
    assert holder(load_registry(repo.path).state.artifacts["m"], "prod") == "v0.0.2"
    repo.tag("m#prod!#3", c2, day(6))
    assert holder(load_registry(repo.path).state.artifacts["m"], "prod") == "v0.0.1"
    repo.tag("m#prod!#4", c1, day(7))
    assert holder(load_registry(repo.path).state.artifacts["m"], "prod") is None


def test_deregistration_hides_the_version_and_its_stages(repo: GitRepo) -> None:
    c1, c2, _ = three_versions(repo)
    repo.tag("m#prod#1", c1, day(4))
    repo.tag("m#prod#2", c2, day(5))
    repo.tag("m@v0.0.2!", c2, day(6))
    artifact = load_registry(repo.path).state.artifacts["m"]
    assert holder(artifact, "prod") == "v0.0.1"
    assert [v.version for v in artifact.get_versions()] == ["v0.0.3", "v0.0.1"]


def test_same_second_unassignment_beats_assignment(repo: GitRepo) -> None:
    _, _, c3 = three_versions(repo)
    repo.tag("m#dev#4", c3, day(5))
    repo.tag("m#dev!#5", c3, day(5))
    assert holder(load_registry(repo.path).state.artifacts["m"], "dev") is None


def test_semver_sort_prefers_the_greatest_holder(repo: GitRepo) -> None:
    c1, _, c3 = three_versions(repo)
    repo.tag("m#prod#1", c3, day(4))
    repo.tag("m#prod#2", c1, day(5))
    artifact = load_registry(repo.path).state.artifacts["m"]
    assert holder(artifact, "prod") == "v0.0.1"
    assert holder(artifact, "prod", sort="semver") == "v0.0.3"


def test_deprecation_hides_and_a_later_registration_reactivates(repo: GitRepo) -> None:
    c1, _, _ = three_versions(repo)
    repo.tag("m@deprecated", c1, day(10))
    assert not load_registry(repo.path).state.artifacts["m"].is_active
    repo.tag("m@v0.1.0", repo.commit("c4", "2024-01-04T12:00:00+0000"), day(11))
    assert load_registry(repo.path).state.artifacts["m"].is_active


def test_unregistered_commit_becomes_a_sha_pseudo_version(repo: GitRepo) -> None:
    three_versions(repo)
    c4 = repo.commit("c4", "2024-01-04T12:00:00+0000")
    repo.tag("m#staging#1", c4, day(5))
    artifact = load_registry(repo.path).state.artifacts["m"]
    assert holder(artifact, "staging") == c4
    assert artifact.latest_version(registered_only=True).version == "v0.0.3"  # type: ignore[union-attr]


def test_lightweight_and_foreign_tags_are_not_events(repo: GitRepo) -> None:
    c1, _, _ = three_versions(repo)
    repo.lightweight_tag("m#prod#9", c1)
    repo.tag("release-1.0", c1, day(9))
    state = load_registry(repo.path).state
    assert holder(state.artifacts["m"], "prod") is None
    assert list(state.artifacts) == ["m"]


def test_monorepo_names_use_the_colon_form(repo: GitRepo) -> None:
    sha = repo.commit("c1")
    repo.tag("svc/api=model@v1.0.0", sha, day(1))
    assert list(load_registry(repo.path).state.artifacts) == ["svc/api:model"]


def test_created_tag_is_skipped_and_named(repo: GitRepo) -> None:
    sha = repo.commit("c1")
    repo.tag("ok@v0.0.1", sha, day(1))
    repo.lightweight_tag("z@created", sha)
    registry = load_registry(repo.path)
    assert list(registry.state.artifacts) == ["ok"]
    assert any("z@created" in p for p in registry.problems)


def test_two_versions_on_one_commit_skip_only_the_ambiguous_stage_tag(repo: GitRepo) -> None:
    sha = repo.commit("c1")
    repo.tag("m@v1.0.0", sha, day(1))
    repo.tag("m@v2.0.0", sha, day(2))
    repo.tag("m#prod#1", sha, day(3))
    repo.tag("ok@v0.0.1", sha, day(1))
    repo.tag("ok#prod#1", sha, day(4))
    registry = load_registry(repo.path)
    assert holder(registry.state.artifacts["ok"], "prod") == "v0.0.1"
    assert holder(registry.state.artifacts["m"], "prod") is None
    assert [p for p in registry.problems if "'m#prod#1'" in p and "v1.0.0, v2.0.0" in p]


def test_invalid_gto_file_is_reported_and_ignored(repo: GitRepo) -> None:
    sha = repo.commit("c1")
    repo.tag("m@v0.0.1", sha, day(1))
    (repo.path / ".gto").write_text("foo: bar\n")
    registry = load_registry(repo.path)
    assert registry.config.stages is None
    assert list(registry.state.artifacts) == ["m"]
    assert any(".gto" in p and "'foo'" in p for p in registry.problems)


def test_artifacts_yaml_at_head_adds_unregistered_artifacts(repo: GitRepo) -> None:
    (repo.path / "artifacts.yaml").write_text("churn:\n  type: model\n  path: models/churn.pkl\n")
    head = repo.commit("c1")
    artifact = load_registry(repo.path).state.artifacts["churn"]
    assert not artifact.is_registered
    assert [v.version for v in artifact.get_versions(include_non_explicit=True)] == [head]


def test_history_and_check_ref_do_not_need_commit_events(repo: GitRepo) -> None:
    c1, _, _ = three_versions(repo)
    repo.tag("m#prod#1", c1, day(4))
    light = load_registry(repo.path, with_commits=False).state.artifacts["m"]
    full = load_registry(repo.path).state.artifacts["m"]
    assert [e.tag for e in light.events] == [e.tag for e in full.events if e.tag]


def test_a_signed_tag_message_is_its_text(repo: GitRepo) -> None:
    """`git tag -s` appends a signature to the tag object; GTO reads only the text."""
    repo.signed_tag("m@v1.0.0", repo.commit("c1"), "Registering artifact m version v1.0.0")
    assert "BEGIN PGP SIGNATURE" in repo.git("cat-file", "tag", "m@v1.0.0")
    [event] = load_registry(repo.path).state.artifacts["m"].events[:1]
    assert event.message == "Registering artifact m version v1.0.0"
