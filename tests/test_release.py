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


def check(root: Path, *args: str, tags: str = "") -> subprocess.CompletedProcess[str]:
    """The script as release.yml runs it, with `git tag -l` on stdin."""
    return subprocess.run(
        [sys.executable, str(root / "ci" / "release_check.py"), *args],
        input=tags,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """The files the check reads, copied so that a test can break one."""
    for name in ("pyproject.toml", "action.yml", "README.md", "ci/release_check.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("templates", "examples/workflows"):
        if (ROOT / folder).exists():
            shutil.copytree(ROOT / folder, tmp_path / folder)
    return tmp_path


def test_this_tree_is_releasable_as_its_version() -> None:
    result = check(ROOT, f"v{VERSION}", "stagetag/stagetag")
    assert result.returncode == 0, result.stderr
    major, minor, _ = VERSION.split(".")
    assert result.stdout.splitlines() == [
        f"version={VERSION}",
        "image=ghcr.io/stagetag/stagetag",
        f"floating={major}.{minor} {major}",
    ]


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


def test_a_stale_component_pin_is_named(tree: Path) -> None:
    example = tree / "examples" / "workflows" / "deploy.gitlab-ci.yml"
    example.write_text(example.read_text().replace(f"deploy@{VERSION}", "deploy@0.0.1"))
    result = check(tree, f"v{VERSION}", "stagetag/stagetag")
    assert result.returncode == 1
    assert "deploy.gitlab-ci.yml:" in result.stderr and "deploy@0.0.1" in result.stderr


@pytest.mark.parametrize(
    ("tags", "moved"),
    [
        ("", "1.2 1"),
        ("v1.2.2\nv1.1.9\nv0.9.0", "1.2 1"),
        ("v1.2.4", ""),  # a fix to an older patch: nothing moves back
        ("v1.3.0\nv1.2.0", "1.2"),  # the newest 1.2, not the newest 1
        ("v2.0.0\nnot-a-release\nv1.2.3-rc1", "1.2 1"),  # another major line is its own
    ],
)
def test_floating_names_move_only_forward(tree: Path, tags: str, moved: str) -> None:
    """Which of `X.Y` and `X` (the image tags, and the action's `vX`) this release takes."""
    pyproject = tree / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace(f'"{VERSION}"', '"1.2.3"', 1))
    for path in [tree / "action.yml", *tree.glob("templates/*.yml"), *tree.glob("**/*.yml")]:
        path.write_text(path.read_text().replace(VERSION, "1.2.3"))
    readme = tree / "README.md"
    readme.write_text(readme.read_text().replace(VERSION, "1.2.3"))
    result = check(tree, "v1.2.3", "stagetag/stagetag", tags=tags)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"floating={moved}"
