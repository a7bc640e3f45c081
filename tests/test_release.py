"""ci/release_check.py: release.yml publishes nothing unless the tag, pyproject.toml and every
reference to the released image (action.yml, the GitLab components, the examples) agree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "ci" / "release_check.py"
VERSION = version("stagetag")


def check(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "ci" / "release_check.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The files the check reads, copied so that a test can break one."""
    for name in ("pyproject.toml", "action.yml", "ci/release_check.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("templates", "examples/workflows"):
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def test_this_tree_is_releasable_as_its_version() -> None:
    result = check(ROOT, f"v{VERSION}", "stagetag/stagetag")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"version={VERSION}", "image=ghcr.io/stagetag/stagetag"]


def test_the_action_runs_the_released_image() -> None:
    assert (
        f"image: docker://ghcr.io/stagetag/stagetag:{VERSION}\n"
        in (ROOT / "action.yml").read_text()
    )


@pytest.mark.parametrize("tag", ["v9.9.9", "1.0.0", "v1.0", "v1.0.0-rc1"])
def test_a_tag_that_is_not_the_version_is_refused(tree: Path, tag: str) -> None:
    result = check(tree, tag, "stagetag/stagetag")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "release_check: " in result.stderr


def test_a_stale_image_reference_is_named(tree: Path) -> None:
    action = tree / "action.yml"
    action.write_text(action.read_text().replace(f"stagetag:{VERSION}", "stagetag:0.0.1"))
    result = check(tree, f"v{VERSION}", "stagetag/stagetag")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith("release_check: action.yml:") and "0.0.1" in line for line in lines)
    assert f"action.yml must run image: docker://ghcr.io/stagetag/stagetag:{VERSION}" in (
        result.stderr
    )


def test_a_fork_must_name_its_own_image(tree: Path) -> None:
    """The image is the repository's own: a fork that kept upstream's image would release an
    action running someone else's build."""
    result = check(tree, f"v{VERSION}", "Fork/Stagetag")
    assert result.returncode == 1
    assert "ghcr.io/fork/stagetag" in result.stderr
