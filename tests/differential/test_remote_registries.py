"""Seeded random registries (generate.py) read with `-r <bare repository>` and `-r file://<bare>`
by gto 1.10.1 (which opens the bare repository, or clones the URL whole) and by stagetag (the
bare repository, or its partial cache of the URL): byte-identical machine-readable output.

The registry's `.gto` is committed on some seeds (a URL's answer takes it from the remote's HEAD)
and copied into the bare repository's folder on others (where GTO reads it for a bare
repository); each seed runs a few commands in one batch per CLI, as test_random_registries.py.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from difftest_harness import compare
from generate import Registry, generate

# Two groups: `--dist loadgroup` runs each on one worker, so the seeds keep both busy without
# spreading over every worker of a bigger run.
SEEDS = [
    pytest.param(seed, marks=pytest.mark.xdist_group(f"remote-registries-{seed % 2}"))
    for seed in range(int(os.environ.get("STAGETAG_REMOTE_DIFF_SEEDS", "100")))
]


def _bare_copy(registry: Registry, rng: random.Random, target: Path) -> None:
    if registry.config is not None and rng.random() < 0.6:
        registry_git(registry, "add", ".gto")
        registry_git(registry, "commit", "-qm", "config")
    subprocess.run(["git", "clone", "-q", "--bare", str(registry.path), str(target)], check=True)
    subprocess.run(["git", "-C", str(target), "config", "uploadpack.allowFilter", "true"])
    if registry.config is not None and rng.random() < 0.5:
        shutil.copyfile(registry.path / ".gto", target / ".gto")


def registry_git(registry: Registry, *args: str) -> None:
    subprocess.run(["git", "-C", str(registry.path), *args], check=True, capture_output=True)


def remote_commands(registry: Registry, rng: random.Random, bare: Path) -> list[list[str]]:
    artifact = rng.choice(sorted(registry.artifacts))
    tag = rng.choice([tag.name for tag in registry.tags])
    url = f"file://{bare}"
    by_path = [
        ["show", "-d", "--json"],
        ["show", artifact, "--json"],
        ["history", "--json"],
        ["check-ref", tag, "--json"],
        ["stages", "--json"],
        ["stages", "--allowed", "--json"],
    ]
    by_url = [
        ["show", artifact, "-d", "--json"],
        ["history", "--json"],
        ["stages", "--allowed", "--json"],
    ]
    return [[*argv, "-r", str(bare)] for argv in by_path] + [[*argv, "-r", url] for argv in by_url]


@pytest.mark.parametrize("seed", SEEDS)
def test_remote_registry(seed: int, tmp_path: Path) -> None:
    rng = random.Random(f"remote-{seed}")
    registry = generate(rng, tmp_path / "repo", seed)
    bare = tmp_path / "host" / "r.git"
    _bare_copy(registry, rng, bare)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {**os.environ, "COLUMNS": "200", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    context = f"\n\nregistry (seed {seed}) at {registry.path}, bare {bare}:\n{registry.script()}"
    compare(remote_commands(registry, rng, bare), outside, env, context)
