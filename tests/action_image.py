"""The action's image, built from the repository's Dockerfile once per test session (xdist
workers included).

It is tagged with the name action.yml pulls (`runs.image`, the released image), so that runner
software given `--pull=false` runs this build exactly where users' jobs run the release.
Needs podman and the local base image (`ci/container-setup.sh`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import once, require

ROOT = Path(__file__).resolve().parents[1]
CONTAINER_SETUP = "run ci/container-setup.sh as root"
BASE_IMAGE = os.environ.get("STAGETAG_BASE_IMAGE", "localhost/stagetag-python-base:3.11")


def released_image() -> str:
    """The image action.yml runs, without its `docker://` scheme."""
    image: str = yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["image"]
    assert image.startswith("docker://"), "action.yml must run a prebuilt image"
    return image.removeprefix("docker://")


def require_podman() -> None:
    require(shutil.which("podman") is not None, "podman is missing", CONTAINER_SETUP)


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, check=check, timeout=900
    )


def build_action_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build (or reuse the layers of) the image, once per session, and return its name."""
    require_podman()
    if podman("image", "exists", BASE_IMAGE, check=False).returncode != 0:
        pytest.fail(f"base image {BASE_IMAGE} is missing: {CONTAINER_SETUP}")
    image = released_image()

    def build(folder: Path) -> None:
        built = podman(
            "build", "--build-arg", f"BASE={BASE_IMAGE}", "-t", image, str(ROOT), check=False
        )
        assert built.returncode == 0, built.stderr

    once(tmp_path_factory, "stagetag-action-image", build)
    return image
