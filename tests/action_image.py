"""The action's image, built from the repository's Dockerfile once per test session.

It is tagged with the name action.yml pulls (`runs.image`, the released image), so that runner
software given `--pull=false` runs this build exactly where users' jobs run the release.
Needs podman and the local base image (`ci/container-setup.sh`).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BASE_IMAGE = os.environ.get("STAGETAG_BASE_IMAGE", "localhost/stagetag-python-base:3.11")


def released_image() -> str:
    """The image action.yml runs, without its `docker://` scheme."""
    image: str = yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["image"]
    assert image.startswith("docker://"), "action.yml must run a prebuilt image"
    return image.removeprefix("docker://")


def require_podman() -> None:
    if shutil.which("podman") is None:
        if os.environ.get("CI"):
            pytest.fail("podman is missing: .ci/run must run ci/container-setup.sh", pytrace=False)
        pytest.skip("podman is not installed (run ci/container-setup.sh as root)")


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, check=check, timeout=900
    )


def build_action_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build (or reuse the layers of) the image and return its name. The lock makes other
    xdist workers wait for one build instead of running the same one at once."""
    require_podman()
    if podman("image", "exists", BASE_IMAGE, check=False).returncode != 0:
        pytest.fail(f"base image {BASE_IMAGE} is missing: run ci/container-setup.sh as root")
    image = released_image()
    lock = tmp_path_factory.getbasetemp().parent / "stagetag-action-image.lock"
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        build = podman(
            "build", "--build-arg", f"BASE={BASE_IMAGE}", "-t", image, str(ROOT), check=False
        )
        assert build.returncode == 0, build.stderr
    return image
