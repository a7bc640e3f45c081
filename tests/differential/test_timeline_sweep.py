"""Stage timelines: the sweep over an artifact's final state (stagetag/timeline.py) gives, for
every artifact it takes, what replaying the tags made by each second gives (the definition,
which test_show_at.py checks against gto). On generate.py's registries, where half the
artifacts need the replay, and on long histories written the way CI writes them (tags in time
order, many in the same second), which all take the sweep."""

from __future__ import annotations

import os
import random
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import GitRepo, make_repo
from generate import BASE_TIME, generate

from stagetag.instants import made_by
from stagetag.registry import load_registry
from stagetag.timeline import Timelines, _cuts_cleanly, _holdings

SEEDS = range(int(os.environ.get("STAGETAG_SWEEP_SEEDS", "20")))


def assert_sweep_is_replay(path: Path) -> int:
    """Every artifact the sweep takes: the same holdings as the replay. Returns how many."""
    registry = load_registry(path)
    timelines = Timelines(registry)
    swept = 0
    for name, artifact in registry.state.artifacts.items():
        tags = timelines._artifact_tags().get(name, [])
        replayed = _holdings(name, list(timelines._replayed(name, tags)))
        assert timelines.of(name) == replayed  # whichever way `of` took
        if _cuts_cleanly(artifact, timelines._renamed().get(name, [])):
            assert _holdings(name, list(timelines._swept(artifact))) == replayed, name
            swept += 1
    return swept


@pytest.mark.parametrize("seed", SEEDS)
def test_sweep_on_random_registries(seed: int, tmp_path: Path) -> None:
    assert_sweep_is_replay(generate(random.Random(seed), tmp_path / "repo", seed).path)


STAGES = ["dev", "staging", "prod"]


def ci_history(rng: random.Random, path: Path, tags: int) -> None:
    """Versions registered on new commits, then assigned, unassigned, deregistered, the
    artifacts deprecated and brought back; a clock that often stays in the same second."""
    repo = make_repo(path)
    commits: list[str] = []
    versions: dict[str, list[tuple[str, str]]] = {"m": [], "n": []}
    counters = dict.fromkeys(versions, 0)
    second = 0
    for _ in range(tags):
        second += rng.choice([0, 0, 1, 5, 3600])
        date = (BASE_TIME + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S%z")
        name = rng.choice(sorted(versions))
        counters[name] += 1
        known = versions[name]
        action = rng.choices(
            ["register", "assign", "unassign", "dereg", "deprecate"], [3, 6, 2, 1, 1]
        )
        if action[0] == "register" or not known:
            if not commits or rng.random() < 0.7:
                commits.append(repo.commit(f"c{len(commits)}", date))
            version = f"v1.{len(known)}.0"
            if any(c == commits[-1] for _, c in known):
                continue  # one version per commit, as GTO needs
            known.append((version, commits[-1]))
            repo.tag(f"{name}@{version}", commits[-1], date)
            continue
        version, commit = rng.choice(known)
        stage = rng.choice(STAGES)
        tag = {
            "assign": f"{name}#{stage}#{counters[name]}",
            "unassign": f"{name}#{stage}!#{counters[name]}",
            "dereg": f"{name}@{version}!#{counters[name]}",
            "deprecate": f"{name}@deprecated#{counters[name]}",
        }[action[0]]
        repo.tag(tag, commit, date, f"{action[0]} by CI")


@pytest.mark.parametrize("seed", range(4))
def test_sweep_on_ci_histories(seed: int, tmp_path: Path) -> None:
    ci_history(random.Random(seed), tmp_path / "repo", 80)
    assert assert_sweep_is_replay(tmp_path / "repo") == 2


def holders_by_show_at(path: Path, name: str, epoch: int) -> dict[str, str]:
    """What `show NAME#STAGE --at` answers for each stage: the registry with only the tags
    made by then, nobody while the artifact is deprecated."""
    registry = load_registry(path, keep=made_by(epoch))
    artifact = registry.state.artifacts.get(name)
    if artifact is None or not artifact.is_active:
        return {}
    return {s: h[0].version for s, h in artifact.stage_holders(sort="timestamp").items()}


def test_odd_histories_follow_show_at(repo: GitRepo) -> None:
    """Histories gto cannot read or that only the replay takes: a tag object renamed by
    `git tag new old`, two versions on one commit, an `@created` tag, a commit dated after
    the deprecation (which keeps a deprecated artifact active, as in GTO), an annotation at
    HEAD. At every second, each stage's holder is what `show --at` that second says."""
    old = repo.commit("c1", "2024-03-01T00:00:00+0000")
    late = repo.commit("c2", "2024-03-05T00:00:00+0000")  # after its tags
    (repo.path / "artifacts.yaml").write_text("d: {type: model}\n")
    head = repo.commit("c3", "2024-03-06T00:00:00+0000")
    day = "2024-03-02T00:00:{:02d}+0000".format
    repo.tag("r@created", old, day(0))
    repo.tag("r@v1.0.0", old, day(1))
    repo.tag("r#prod#1", old, day(2))
    repo.git("tag", "r#dev#2", "r#prod#1")  # the ref says dev, the object prod
    repo.git("tag", "r@v9.0.0", "r#prod#1")  # a registration's ref, an assignment inside
    repo.tag("two@v1.0.0", old, day(1))
    repo.tag("two#prod#1", old, day(2))
    repo.tag("two@v2.0.0", old, day(3))  # now the stage tag has two versions to choose from
    repo.tag("d@v1.0.0", late, day(1))
    repo.tag("d#prod#1", late, day(2))
    repo.tag("d@deprecated", head, day(3))  # older than its version's commit: still active
    repo.tag("e@v1.0.0", old, day(1))
    repo.tag("e#prod#1", old, day(2))
    repo.tag("e@deprecated", head, day(3))
    repo.tag("e@v1.1.0", head, day(4))  # reactivated
    registry = load_registry(repo.path)
    timelines = Timelines(registry)
    seconds = sorted({t.stamp.epoch for t in registry.tags if t.stamp is not None})
    for name in ("r", "two", "d", "e", "nothing"):
        holdings = timelines.of(name)
        for epoch in seconds:
            held = {
                stage: h.version
                for stage, hs in holdings.items()
                for h in hs
                if h.since.epoch <= epoch and (h.until is None or epoch < h.until.epoch)
            }
            assert held == holders_by_show_at(repo.path, name, epoch), (name, epoch)
    assert [h.version for h in timelines.of("d")["prod"]] == ["v1.0.0"]
    assert timelines.of("d")["prod"][0].until is None
    assert [(h.version, h.until is None) for h in timelines.of("e")["prod"]] == [
        ("v1.0.0", False),
        ("v1.0.0", True),
    ]
    assert timelines.of("two")["prod"][0].until is not None  # skipped once v2.0.0 came
    assert "r@created" not in str(timelines.of("r"))
