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
from conftest import make_repo
from generate import BASE_TIME, generate

from stagetag.registry import load_registry
from stagetag.timeline import Timelines, _cuts_cleanly, _holdings

SEEDS = range(int(os.environ.get("STAGETAG_SWEEP_SEEDS", "30")))


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
