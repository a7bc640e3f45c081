"""Seeded random registries (see generate.py), each queried through gto 1.10.1 and stagetag.

All commands of one seed run in one batch per CLI, so a seed costs about two interpreter start-ups.
A failure prints every differing command with a diff, plus a script that rebuilds the tags.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from difftest_harness import compare
from generate import Registry, generate

# STAGETAG_DIFF_SEEDS=500 makes a deeper local soak; CI keeps the default.
SEEDS = range(int(os.environ.get("STAGETAG_DIFF_SEEDS", "100")))
FLAGS = ["--name", "--version", "--stage", "--event"]
# gto needs 20-90 ms per command on these registries, so each seed runs a few core commands plus
# variants drawn from these lists (one per artifact and per stage); the seeds together run them all.
ARTIFACT_EXTRAS = [
    ["-d", "--version"],
    ["-d", "--ref"],
    ["--ref"],
    ["--stage"],
    ["--ro", "--json"],
    ["--av", "1", "--json"],
    ["--vs", "-1", "--sort", "semver", "--json"],
]
# Drawn per seed, like the extras below: the seeds together run them all.
SHOW_EXTRAS = [
    ["show", "--vs", "-1", "--json"],
    ["show", "--av", "1", "-d", "--json"],
    ["show", "--sort", "semver", "--json"],
    ["show", "--ro", "-d", "--json"],
    ["show", "-d", "--name"],
    ["history", "--json", "--asc"],
]
STAGES_COMMANDS = [
    ["stages"],
    ["stages", "--json"],
    ["stages", "--used", "--json"],
    ["stages", "--allowed", "--json"],
]
STAGE_EXTRAS = [
    ["--ref"],
    ["-d", "--version"],
    ["--vs", "-1", "--version"],
    ["--sort", "semver", "--version"],
    ["--json"],
]


def registry_commands(registry: Registry, rng: random.Random) -> list[list[str]]:
    """The read commands whose stdout must be byte-identical to gto's for this registry.

    gto needs ~50-90 ms per command here, so beyond `show NAME --json` per artifact and a few
    core commands, each seed draws its variants; 100 seeds run every one of them many times."""
    argvs = [["show", "--json"], ["show", "-d", "--json"], ["history", "--json"]]
    argvs += rng.sample(SHOW_EXTRAS, 2) + rng.sample(STAGES_COMMANDS, 1)
    for artifact, stages in sorted(registry.artifacts.items()):
        argvs.append(["show", artifact, "--json"])
        argvs += rng.sample(
            [
                ["history", artifact, "--json"],
                ["show", artifact, "-d", "--json"],
                rng.choice(
                    [["show", artifact, "--version"], ["show", f"{artifact}@latest", "--ref"]]
                ),
                ["show", artifact, *rng.choice(ARTIFACT_EXTRAS)],
            ],
            2,
        )
        for stage in sorted(stages):
            argvs.append(
                ["show", f"{artifact}#{stage}", *rng.choice([["--version"], *STAGE_EXTRAS])]
            )
    for name in sorted(set(registry.annotated) - set(registry.artifacts)):
        argvs.append(["show", name, *rng.choice([["--json"], ["-d", "--json"]])])
    names = [tag.name for tag in registry.tags]
    argvs += [["check-ref", name, "--json"] for name in rng.sample(names, min(4, len(names)))]
    if names:
        name = rng.choice(names)
        argvs += [["check-ref", f"refs/tags/{name}", flag] for flag in rng.sample(FLAGS, 2)]
    return argvs


@pytest.mark.parametrize("seed", SEEDS)
def test_random_registry(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    registry = generate(rng, tmp_path / "repo", seed)
    env = {**os.environ, "COLUMNS": "200"}
    context = f"\n\nregistry (seed {seed}) at {registry.path}:\n{registry.script()}"
    compare(registry_commands(registry, rng), registry.path, env, context)
