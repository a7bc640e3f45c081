"""`show --at T` against gto 1.10.1 replaying a copy of the repository with the tags made after
T deleted, at random instants of random registries (same-second ties, unassignments,
deregistrations, deprecations and what follows them, SHA versions, stage tags older than their
version's registration), and `history NAME --stage` against the holders gto shows there.

Which tags are "after T" comes from the oracle itself: the timestamps of `gto history --json`.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import make_repo
from difftest_harness import describe_mismatch, oracle, under_test
from generate import generate

SEEDS = range(int(os.environ.get("STAGETAG_AT_SEEDS", "6")))
INSTANTS = 6  # per registry: gto needs a copy of the repository for each
OFFSETS = [0, 0, 330, -420, 845]


def event_times(repo: Path, env: dict[str, str]) -> dict[str, int]:
    """Each event tag's time, as gto reads it."""
    (out,) = oracle().run([["history", "--json"]], repo, env)
    assert out.exit == 0, out.stderr
    return {
        record["ref"]: int(datetime.fromisoformat(record["timestamp"]).timestamp())
        for record in json.loads(out.stdout)
    }


def copy_at(repo: Path, times: dict[str, int], instant: int, copy: Path) -> Path:
    """A copy of the repository (work tree and all: `.gto` may be uncommitted) without the
    tags made after `instant`."""
    shutil.copytree(repo, copy, symlinks=True)
    later = "".join(f"delete refs/tags/{tag}\n" for tag, when in times.items() if when > instant)
    subprocess.run(["git", "update-ref", "--stdin"], cwd=copy, input=later, text=True, check=True)
    return copy


def pick_instants(rng: random.Random, times: dict[str, int], count: int | None) -> list[int]:
    """`count` (all if None) of the seconds where answers change and their neighbours, before
    the first and after the last tag included."""
    epochs = sorted(set(times.values()))
    candidates = {epochs[0] - 1, epochs[-1] + 3600} | {e + d for e in epochs for d in (-1, 0, 1)}
    return sorted(rng.sample(sorted(candidates), min(count or len(candidates), len(candidates))))


def iso(epoch: int, rng: random.Random) -> str:
    """The instant in a random UTC offset, as `--at` takes it."""
    zone = timezone(timedelta(minutes=rng.choice(OFFSETS)))
    return datetime.fromtimestamp(epoch, zone).isoformat()


def holder_at(timeline: list[dict[str, object]], instant: int) -> object:
    """The version `history --stage --json` says held the stage at `instant`."""
    for record in timeline:
        start = datetime.fromisoformat(str(record["from"])).timestamp()
        end = record["to"] and datetime.fromisoformat(str(record["to"])).timestamp()
        if start <= instant and (not end or instant < end):
            return record["version"]
    return None


def check_registry(
    repo: Path, tmp: Path, rng: random.Random, context: str, every: bool = False
) -> None:
    """gto on a copy per instant (`-r COPY`, all in one gto process) against `show --at`;
    at INSTANTS random instants, or at `every` one where an answer may change."""
    env = {**os.environ, "COLUMNS": "200"}
    times = event_times(repo, env)
    if not times:
        return
    instants = pick_instants(rng, times, None if every else INSTANTS)
    copies = [copy_at(repo, times, t, tmp / f"at-{i}") for i, t in enumerate(instants)]
    (listed,) = under_test().run([["show", "-d", "--json"]], repo, env)
    names = sorted(json.loads(listed.stdout))
    queries = [["show", "--json"], ["show", "-d", "--json"]]
    queries += [["show", name, "-d", "--json"] for name in rng.sample(names, min(2, len(names)))]
    wanted = oracle().run([[*q, "-r", str(c)] for c in copies for q in queries], repo, env)
    got = under_test().run(
        [[*q, "--at", iso(t, rng)] for t in instants for q in queries], repo, env
    )
    reports = []
    for index, (want, have) in enumerate(zip(wanted, got, strict=True)):
        instant, query = instants[index // len(queries)], queries[index % len(queries)]
        # an artifact may not exist yet: then both fail, and say so in one line
        assert want.exit == 0 or query[1] != "--json", f"gto {query}: {want.stderr}{context}"
        report = describe_mismatch([*query, "--at", str(instant)], want, have)
        if report:
            reports.append(f"{report}\n(gto on {copies[index // len(queries)]})")
    assert not reports, "\n\n".join(reports) + context
    views = [json.loads(out.stdout) for out in wanted[:: len(queries)]]
    check_timelines(repo, env, dict(zip(instants, views, strict=True)), context)


def check_timelines(
    repo: Path, env: dict[str, str], views: dict[int, dict[str, dict]], context: str
) -> None:
    """At each instant, `history NAME --stage STAGE` names the holder gto's `show --json` on
    that instant's copy shows (none for an artifact it leaves out: deprecated, or no tags)."""
    stages = {s for view in views.values() for entry in view.values() for s in entry["stage"]}
    (listed,) = under_test().run([["show", "-d", "--json"]], repo, env)
    pairs = [
        (name, stage) for name in sorted(json.loads(listed.stdout)) for stage in sorted(stages)
    ]
    outs = under_test().run(
        [["history", name, "--stage", stage, "--json"] for name, stage in pairs], repo, env
    )
    for (name, stage), out in zip(pairs, outs, strict=True):
        assert out.exit == 0, out.stderr
        timeline = json.loads(out.stdout)[::-1]
        for instant, view in views.items():
            shown = view[name]["stage"].get(stage) if name in view else None
            assert holder_at(timeline, instant) == shown, (
                f"history {name} --stage {stage}: holder at {instant}{context}\n{timeline}"
            )


@pytest.mark.parametrize("seed", SEEDS)
def test_show_at_random_registry(seed: int, tmp_path: Path) -> None:
    rng = random.Random(1000 + seed)
    registry = generate(rng, tmp_path / "repo", seed)
    context = f"\n\nregistry (seed {seed}) at {registry.path}:\n{registry.script()}"
    check_registry(registry.path, tmp_path, rng, context)


# A history written to hit each rule once, as (tag, commit, second, message):
BASE = datetime(2024, 2, 1, tzinfo=timezone.utc)
HISTORY = [
    ("churn@v1.0.0", 1, 0, "first"),
    ("churn@v1.1.0", 2, 0, "same second as v1.0.0"),
    ("churn#prod#1", 1, 10, "v1.0.0 to prod"),
    ("churn#prod#2", 2, 10, "v1.1.0 to prod in the same second: GTO's order decides"),
    ("churn#staging#3", 2, 20, ""),
    ("churn#prod!#4", 2, 30, "out of prod: GTO falls back to v1.0.0"),
    ("churn@deprecated", 3, 40, "retired: nothing holds anything"),
    ("churn#prod#5", 2, 50, "reactivated by a new assignment"),
    ("churn@v1.1.0!", 2, 60, "deregistered: prod falls back again"),
    ("churn#dev#6", 3, 60, "a stage on an unregistered commit: a SHA version"),
    ("churn@v1.2.0", 3, 70, "registered after its stage tag"),
    ("fraud@v0.1.0", 1, 10, ""),
    ("fraud#prod#1", 1, 10, "assigned and"),
    ("fraud#prod!#2", 1, 10, "unassigned in the same second"),
    ("fraud#prod#3", 1, 20, ""),
    ("fraud@deprecated", 1, 80, "a deprecation tied with"),
    ("fraud#dev#4", 1, 80, "an assignment: GTO keeps the artifact active"),
]


def test_show_at_every_second_of_a_handmade_history(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    commits = [""] + [repo.commit(f"c{n}", f"2024-01-0{n}T12:00:00+0000") for n in (1, 2, 3)]
    for name, commit, second, message in HISTORY:
        date = (BASE + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S%z")
        repo.tag(name, commits[commit], date, message)
    check_registry(repo.path, tmp_path, random.Random(0), "", every=True)
