"""The action's image, built from the repo's Dockerfile and run the way the CI systems run it.

Unit tests call `stagetag action` in-process; only a real container shows what the runner
does to it: a workspace owned by another user (git's "dubious ownership"), HOME switched to
/github/home, outputs through files mounted from the host, the image's own ENTRYPOINT, and
pip installing the package into whatever base image the Dockerfile names. Needs podman
(`ci/container-setup.sh` installs it and builds the local python base image).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import read_github_output

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = os.environ.get("STAGETAG_BASE_IMAGE", "localhost/stagetag-python-base:3.11")
IMAGE = "localhost/stagetag-action:test"
TOKEN = "s3cret-token-5e1f0c"
RUNNER_UID = "1000"  # GitHub's checkout belongs to the runner user, the container runs as root
SEED_TAG = "churn@v1.0.0"

if shutil.which("podman") is None:
    if os.environ.get("CI"):
        pytest.fail("podman is missing: .ci/run must run ci/container-setup.sh", pytrace=False)
    pytest.skip(
        "podman is not installed (run ci/container-setup.sh as root)", allow_module_level=True
    )


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, check=check, timeout=600
    )


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Build once per session; the lock makes a second xdist worker reuse the cached layers
    instead of building the same image concurrently."""
    if podman("image", "exists", BASE_IMAGE, check=False).returncode != 0:
        pytest.fail(f"base image {BASE_IMAGE} is missing: run ci/container-setup.sh as root")
    lock = tmp_path_factory.getbasetemp().parent / "stagetag-action-image.lock"
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        build = podman(
            "build", "--build-arg", f"BASE={BASE_IMAGE}", "-t", IMAGE, str(ROOT), check=False
        )
        assert build.returncode == 0, build.stderr
    return IMAGE


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return result.stdout.strip()


@dataclass
class Checkout:
    """A bare remote with one registered version, and a clone of it as the CI workspace."""

    remote: Path
    workspace: Path
    commit: str

    def remote_tags(self) -> set[str]:
        return set(git(self.remote, "tag", "--list").split())


@pytest.fixture
def checkout(tmp_path: Path) -> Checkout:
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "-q", "-b", "main")
    (seed / ".gto").write_text("stages: [dev, staging, prod]\n")
    (seed / "model.txt").write_text("weights\n")
    git(seed, "add", "-A")
    git(seed, "commit", "-qm", "model")
    git(seed, "tag", "-a", SEED_TAG, "-m", "Registering artifact churn version v1.0.0")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(seed, "push", "-q", str(remote), "main", SEED_TAG)
    workspace = tmp_path / "workspace"
    git(tmp_path, "clone", "-q", str(remote), str(workspace))
    subprocess.run(["chown", "-R", f"{RUNNER_UID}:{RUNNER_UID}", str(workspace)], check=True)
    return Checkout(remote, workspace, git(seed, "rev-parse", "HEAD"))


def action_yml() -> dict[str, Any]:
    metadata: dict[str, Any] = yaml.safe_load((ROOT / "action.yml").read_text())
    return metadata


def action_inputs(**given: str) -> dict[str, str]:
    """INPUT_* as the runner sets them: every input of action.yml, at its default unless given
    (`${{ github.token }}` becomes the test token)."""
    inputs = action_yml()["inputs"]
    env = {}
    for name, spec in inputs.items():
        default = str(spec.get("default", ""))
        value = given.get(name, TOKEN if default == "${{ github.token }}" else default)
        env[f"INPUT_{name.upper()}"] = value
    return env


@dataclass
class GithubRun:
    result: subprocess.CompletedProcess[str]
    outputs: dict[str, str]
    summary: str


def run_github(
    image: str, checkout: Checkout, tmp_path: Path, inputs: dict[str, str], mirror_action_yml: bool
) -> GithubRun:
    """`podman run` with the mounts, workdir and variables a GitHub runner gives a docker
    action; with mirror_action_yml, also action.yml's runs.entrypoint and runs.args."""
    commands = tmp_path / "file_commands"
    home = tmp_path / "home"
    commands.mkdir()
    home.mkdir()
    for name in ("set_output_x", "step_summary_x", "set_env_x", "add_path_x", "save_state_x"):
        (commands / name).touch()
    env = {
        "HOME": "/github/home",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_OUTPUT": "/github/file_commands/set_output_x",
        "GITHUB_STEP_SUMMARY": "/github/file_commands/step_summary_x",
        "GITHUB_ENV": "/github/file_commands/set_env_x",
        "GITHUB_PATH": "/github/file_commands/add_path_x",
        "GITHUB_STATE": "/github/file_commands/save_state_x",
        "GITHUB_ACTOR": "octocat",
        "GITHUB_ACTOR_ID": "583231",
        "GITHUB_REPOSITORY": "octo-org/models",
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_REF_NAME": "main",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "https://api.github.com",
        "RUNNER_OS": "Linux",
        **action_inputs(**inputs),
    }
    runs = action_yml()["runs"]
    entrypoint: Sequence[str] = ()
    args: Sequence[str] = ()
    if mirror_action_yml:
        entrypoint = ("--entrypoint", runs["entrypoint"])
        args = [str(arg) for arg in runs["args"]]
    result = podman(
        "run",
        "--rm",
        "--workdir",
        "/github/workspace",
        "-v",
        f"{checkout.workspace}:/github/workspace",
        "-v",
        f"{commands}:/github/file_commands",
        "-v",
        f"{home}:/github/home",
        "-v",
        f"{checkout.remote}:{checkout.remote}",  # origin is this path, so mount it as is
        *(f"--env={key}={value}" for key, value in env.items()),
        *entrypoint,
        image,
        *args,
        check=False,
    )
    return GithubRun(
        result,
        read_github_output(commands / "set_output_x"),
        (commands / "step_summary_x").read_text(),
    )


ASSIGN = {"name": "churn", "stage": "prod", "version": "v1.0.0", "dry_run": "false"}


def test_workspace_is_dubious_without_the_entrypoint(image: str, checkout: Checkout) -> None:
    """The control: plain git in this container refuses the workspace, so the action's run
    below passes only because the entrypoint trusts it."""
    result = podman(
        "run",
        "--rm",
        "--workdir=/github/workspace",
        f"--volume={checkout.workspace}:/github/workspace",
        "--env=HOME=/tmp",
        "--entrypoint=git",
        image,
        "status",
        check=False,
    )
    assert result.returncode == 128
    assert "dubious ownership" in result.stderr


@pytest.mark.parametrize("mirror_action_yml", [False, True], ids=["image-entrypoint", "action-yml"])
def test_github_assign(
    image: str, checkout: Checkout, tmp_path: Path, mirror_action_yml: bool
) -> None:
    run = run_github(image, checkout, tmp_path, ASSIGN, mirror_action_yml)

    assert run.result.returncode == 0, run.result.stdout + run.result.stderr
    assert checkout.remote_tags() == {SEED_TAG, "churn#prod#1"}
    tagger = git(checkout.remote, "tag", "-l", "--format=%(taggeremail)", "churn#prod#1")
    assert tagger == "<583231+octocat@users.noreply.github.com>"
    assert run.outputs == {
        "tag": "churn#prod#1",
        "tags": "churn#prod#1",
        "event": "assignment",
        "name": "churn",
        "version": "v1.0.0",
        "stage": "prod",
        "commit": checkout.commit,
        "created": "true",
        "pushed": "true",
    }
    assert "`churn#prod#1`" in run.summary
    logs = run.result.stdout + run.result.stderr
    assert [line for line in logs.splitlines() if TOKEN in line] == [f"::add-mask::{TOKEN}"]
    assert TOKEN not in (checkout.workspace / ".git" / "config").read_text()


@pytest.mark.parametrize(
    ("stage", "reason"),
    [("qa", "is not allowed by"), ("Prod!", "invalid stage 'Prod!'")],
    ids=["not-in-gto", "invalid-name"],
)
def test_github_refused_stage(
    image: str, checkout: Checkout, tmp_path: Path, stage: str, reason: str
) -> None:
    run = run_github(image, checkout, tmp_path, {**ASSIGN, "stage": stage}, False)

    assert run.result.returncode != 0
    errors = [line for line in run.result.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and reason in errors[0], run.result.stdout
    assert checkout.remote_tags() == {SEED_TAG}
    assert git(checkout.workspace, "-c", "safe.directory=*", "tag", "--list") == SEED_TAG
    assert run.outputs == {}


def test_gitlab_assign_writes_dotenv_report(image: str, checkout: Checkout) -> None:
    """A GitLab job with `image: <this>` and `script: stagetag action`: STAGETAG_* variables
    in, the dotenv report in the project folder out."""
    project_dir = "/builds/octo-org/models"
    env = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PROJECT_DIR": project_dir,
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_PROJECT_PATH": "octo-org/models",
        "GITLAB_USER_LOGIN": "octocat",
        "GITLAB_USER_NAME": "Octo Cat",
        "GITLAB_USER_EMAIL": "octo@example.com",
        "STAGETAG_COMMAND": "assign",
        "STAGETAG_NAME": "churn",
        "STAGETAG_VERSION": "v1.0.0",
        "STAGETAG_STAGE": "staging",
        "STAGETAG_MESSAGE": "Promote churn: ok | #1",
    }
    result = podman(
        "run",
        "--rm",
        f"--workdir={project_dir}",
        f"--volume={checkout.workspace}:{project_dir}",
        f"--volume={checkout.remote}:{checkout.remote}",
        *(f"--env={key}={value}" for key, value in env.items()),
        "--entrypoint=",
        image,
        "sh",
        "-c",
        "stagetag action",  # the job's script, run by a shell as the GitLab runner does
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert checkout.remote_tags() == {SEED_TAG, "churn#staging#1"}
    tag = git(checkout.remote, "tag", "-l", "--format=%(taggername): %(subject)", "churn#staging#1")
    assert tag == "Octo Cat: Promote churn: ok | #1"
    report = (checkout.workspace / "stagetag.env").read_text().splitlines()
    assert report == [
        "STAGETAG_OUT_TAG=churn#staging#1",
        "STAGETAG_OUT_TAGS=churn#staging#1",
        "STAGETAG_OUT_EVENT=assignment",
        "STAGETAG_OUT_NAME=churn",
        "STAGETAG_OUT_VERSION=v1.0.0",
        "STAGETAG_OUT_STAGE=staging",
        f"STAGETAG_OUT_COMMIT={checkout.commit}",
        "STAGETAG_OUT_CREATED=true",
        "STAGETAG_OUT_PUSHED=true",
    ]
