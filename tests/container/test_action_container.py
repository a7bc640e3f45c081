"""The action's image, built from the repo's Dockerfile and run the way the CI systems run it.

Unit tests call `stagetag action` in-process; only a real container shows what the runner
does to it: a workspace owned by another user (git's "dubious ownership"), HOME switched to
/github/home, outputs through files mounted from the host, the image's own ENTRYPOINT, a
shallow checkout whose tags must be fetched from inside the container, the templates and the
deploy commands working from the installed wheel, and what the image carries besides
stagetag. Needs podman (`ci/container-setup.sh` installs it and builds the local base image).
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from action_image import BASE_IMAGE, build_action_image, podman
from conftest import SUMMARY, GitRepo, make_repo, read_github_output, ssh_key

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-token-5e1f0c"
RUNNER_UID = "1000"  # GitHub's checkout belongs to the runner user, the container runs as root
SEED_TAG = "churn@v1.0.0"
DEV_TAG = "churn#dev#1"  # the pushed stage tag a deploy run is triggered by
PROJECT_DIR = "/builds/octo-org/models"

# The deploy command writes into the workspace, so the host sees that it ran, where, and with
# which job variables.
STAGETAG_YAML = """\
deploy:
  defaults:
    runs_on: [self-hosted, deploy]
    timeout: 600
  stages:
    dev:
      environment: development
      deploy: echo "{{ name }} {{ version }} $STAGETAG_TAG" > "deployed-{{ stage }}.txt"
"""
ARTIFACTS_YAML = "churn:\n  type: model\n  path: model.txt\n  description: Predicts churn\n"
DEPLOY_COMMAND = 'echo "churn v1.0.0 $STAGETAG_TAG" > "deployed-dev.txt"'

pytestmark = pytest.mark.xdist_group("test_action_container")


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_action_image(tmp_path_factory)


@dataclass
class Checkout:
    """A bare remote holding a registered version, and a clone of it as the CI workspace."""

    remote: Path
    workspace: Path
    commit: str

    def remote_tags(self) -> set[str]:
        return set(GitRepo(self.remote).git("tag", "--list").split())


def make_checkout(
    base: Path, tags: Sequence[str] = (SEED_TAG,), shallow: bool = False, owner: str = RUNNER_UID
) -> Checkout:
    """The remote gets `tags` (a registration, then stage tags, all of v1.0.0); the
    workspace is cloned the way the CI checks out: `shallow` as actions/checkout does by
    default (depth 1, no tags), and owned by `owner`."""
    seed = make_repo(base / "seed")
    (seed.path / ".gto").write_text("stages: [dev, staging, prod]\n")
    (seed.path / "stagetag.yaml").write_text(STAGETAG_YAML)
    (seed.path / "artifacts.yaml").write_text(ARTIFACTS_YAML)
    (seed.path / "model.txt").write_text("weights\n")
    seed.git("add", "-A")
    seed.git("commit", "-qm", "model")
    for tag in tags:
        event = "Registering" if "@" in tag else "Assigning stage dev to"
        seed.git("tag", "-a", tag, "-m", f"{event} artifact churn version v1.0.0")
    remote = base / "remote.git"
    seed.git("init", "-q", "--bare", "-b", "main", str(remote))
    seed.git("push", "-q", str(remote), "main", *tags)
    workspace = base / "workspace"
    options = ("--depth", "1", "--no-tags") if shallow else ()
    # file://, so that --depth is honoured; the path is mounted as is into the container
    seed.git("clone", "-q", *options, f"file://{remote}", str(workspace))
    subprocess.run(["chown", "-R", f"{owner}:{owner}", str(workspace)], check=True)
    return Checkout(remote, workspace, seed.git("rev-parse", "HEAD"))


@pytest.fixture
def checkout(tmp_path: Path) -> Checkout:
    return make_checkout(tmp_path)


@pytest.fixture
def pushed(tmp_path: Path) -> Checkout:
    """A tag-push run's checkout: the remote has DEV_TAG, the shallow clone has no tag."""
    return make_checkout(tmp_path, (SEED_TAG, DEV_TAG), shallow=True)


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
    image: str,
    checkout: Checkout,
    tmp_path: Path,
    inputs: dict[str, str],
    mirror_action_yml: bool = False,
    event: dict[str, str] | None = None,
) -> GithubRun:
    """`podman run` with the mounts, workdir and variables a GitHub runner gives a docker
    action; with mirror_action_yml, also action.yml's runs.entrypoint and runs.args. `event`
    overrides the workflow_dispatch run's GITHUB_* variables (e.g. for a tag push)."""
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
        **(event or {}),
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


def tag_push(tag: str) -> dict[str, str]:
    """The GITHUB_* variables of a run started by pushing `tag`."""
    return {"GITHUB_EVENT_NAME": "push", "GITHUB_REF": f"refs/tags/{tag}", "GITHUB_REF_NAME": tag}


def run_gitlab(
    image: str, checkout: Checkout, script: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A GitLab job with `image: {name: <this>, entrypoint: [""]}`: the project folder
    mounted, CI_* variables set, and the job's script run by a shell."""
    variables = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PROJECT_DIR": PROJECT_DIR,
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_PROJECT_PATH": "octo-org/models",
        **(env or {}),
    }
    return podman(
        "run",
        "--rm",
        f"--workdir={PROJECT_DIR}",
        f"--volume={checkout.workspace}:{PROJECT_DIR}",
        f"--volume={checkout.remote}:{checkout.remote}",
        *(f"--env={key}={value}" for key, value in variables.items()),
        "--entrypoint=",
        image,
        "sh",
        "-c",
        script,
        check=False,
    )


def in_image(image: str, script: str, *options: str) -> subprocess.CompletedProcess[str]:
    return podman("run", "--rm", *options, "--entrypoint=", image, "sh", "-c", script, check=False)


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
    tagger = GitRepo(checkout.remote).git("tag", "-l", "--format=%(taggeremail)", "churn#prod#1")
    assert tagger == "<583231+octocat@users.noreply.github.com>"
    assert run.outputs == {
        "tag": "churn#prod#1",
        "tags": "churn#prod#1",
        "recovered": "",
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


def test_github_assign_signed(image: str, checkout: Checkout, tmp_path: Path) -> None:
    """The image signs with the key of input 'signing_key' (with its own ssh-keygen): the
    pushed tag verifies on the host, and the key shows in the log only as masks."""
    key, public = ssh_key(tmp_path / "keys", "bot")
    run = run_github(image, checkout, tmp_path, {**ASSIGN, "signing_key": key.read_text()})

    assert run.result.returncode == 0, run.result.stdout + run.result.stderr
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"bot {public}\n")
    verified = subprocess.run(
        ["git", "-c", f"gpg.ssh.allowedSignersFile={signers}", "verify-tag", "churn#prod#1"],
        cwd=checkout.remote,
        capture_output=True,
        text=True,
    )
    assert verified.returncode == 0, verified.stderr
    secret = key.read_text().splitlines()[1:-1]
    logs = (run.result.stdout + run.result.stderr).splitlines()
    shown = [line for line in logs if any(part in line for part in secret)]
    assert shown == [f"::add-mask::{part}" for part in secret]


@pytest.mark.parametrize(
    ("stage", "reason"),
    [("qa", "is not allowed by"), ("Prod!", "invalid stage 'Prod!'")],
    ids=["not-in-gto", "invalid-name"],
)
def test_github_refused_stage(
    image: str, checkout: Checkout, tmp_path: Path, stage: str, reason: str
) -> None:
    run = run_github(image, checkout, tmp_path, {**ASSIGN, "stage": stage})

    assert run.result.returncode != 0
    errors = [line for line in run.result.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and reason in errors[0], run.result.stdout
    assert checkout.remote_tags() == {SEED_TAG}
    assert GitRepo(checkout.workspace).git("-c", "safe.directory=*", "tag", "--list") == SEED_TAG
    assert run.outputs == {}


def test_github_check_ref_fetches_the_tag_of_a_shallow_checkout(
    image: str, pushed: Checkout, tmp_path: Path
) -> None:
    """A tag-push run on actions/checkout's default clone: the tag is fetched from the remote
    inside the container, and the outputs are gto-action's, annotations included."""
    assert GitRepo(pushed.workspace).git("-c", "safe.directory=*", "tag", "--list") == ""
    run = run_github(
        image, pushed, tmp_path, {"command": "check-ref"}, mirror_action_yml=True,
        event=tag_push(DEV_TAG),
    )  # fmt: skip

    assert run.result.returncode == 0, run.result.stdout + run.result.stderr
    assert run.outputs == {
        "event": "assignment",
        "name": "churn",
        "version": "v1.0.0",
        "stage": "dev",
        "type": "model",
        "path": "model.txt",
        "description": "Predicts churn",
    }
    local_tags = GitRepo(pushed.workspace).git("-c", "safe.directory=*", "tag", "--list").split()
    assert set(local_tags) == {SEED_TAG, DEV_TAG}


def test_github_dispatch_outputs_the_matrix(image: str, pushed: Checkout, tmp_path: Path) -> None:
    """The deploy workflow's plan step: one job per artifact and stage, from stagetag.yaml,
    with the annotations and the commit of the pushed tag, ready for fromJSON."""
    run = run_github(image, pushed, tmp_path, {"command": "dispatch"}, event=tag_push(DEV_TAG))

    assert run.result.returncode == 0, run.result.stdout + run.result.stderr
    assert set(run.outputs) == {"matrix", "has_jobs"}
    assert run.outputs["has_jobs"] == "true"
    expected = {
        "name": "churn",
        "version": "v1.0.0",
        "stage": "dev",
        "environment": "development",
        "action": "deploy",
        "command": DEPLOY_COMMAND,
        "runs_on": ["self-hosted", "deploy"],
        "concurrency": "deploy-churn-dev",
        "timeout_minutes": 10,
        "tag": DEV_TAG,
        "commit": pushed.commit,
        "path": "model.txt",
        "type": "model",
    }
    [job] = json.loads(run.outputs["matrix"])["include"]
    assert {key: job.get(key) for key in expected} == expected  # more keys may come
    assert "deploy churn v1.0.0 to dev (development)" in run.summary
    assert not (pushed.workspace / "deployed-dev.txt").exists()  # planned, not run


def test_github_dispatch_of_a_branch_run_has_no_jobs(
    image: str, checkout: Checkout, tmp_path: Path
) -> None:
    run = run_github(image, checkout, tmp_path, {"command": "dispatch"})

    assert run.result.returncode == 0, run.result.stdout + run.result.stderr
    assert run.outputs == {"matrix": '{"include":[]}', "has_jobs": "false"}
    assert "nothing to deploy" in run.summary


def test_gitlab_assign_writes_dotenv_report(image: str, checkout: Checkout) -> None:
    """A GitLab job with `image: <this>` and `script: stagetag action`: STAGETAG_* variables
    in, the dotenv report in the project folder out."""
    env = {
        "GITLAB_USER_LOGIN": "octocat",
        "GITLAB_USER_NAME": "Octo Cat",
        "GITLAB_USER_EMAIL": "octo@example.com",
        "STAGETAG_COMMAND": "assign",
        "STAGETAG_NAME": "churn",
        "STAGETAG_VERSION": "v1.0.0",
        "STAGETAG_STAGE": "staging",
        "STAGETAG_MESSAGE": "Promote churn: ok | #1",
    }
    result = run_gitlab(image, checkout, "stagetag action", env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert checkout.remote_tags() == {SEED_TAG, "churn#staging#1"}
    tag = GitRepo(checkout.remote).git(
        "tag", "-l", "--format=%(taggername): %(subject)", "churn#staging#1"
    )
    assert tag == "Octo Cat: Promote churn: ok | #1"
    report = (checkout.workspace / "stagetag.env").read_text().splitlines()
    assert report == [
        "STAGETAG_OUT_TAG=churn#staging#1",
        "STAGETAG_OUT_TAGS=churn#staging#1",
        "STAGETAG_OUT_RECOVERED=",
        "STAGETAG_OUT_EVENT=assignment",
        "STAGETAG_OUT_NAME=churn",
        "STAGETAG_OUT_VERSION=v1.0.0",
        "STAGETAG_OUT_STAGE=staging",
        f"STAGETAG_OUT_COMMIT={checkout.commit}",
        "STAGETAG_OUT_CREATED=true",
        "STAGETAG_OUT_PUSHED=true",
    ]


@pytest.fixture
def tag_pipeline(tmp_path: Path) -> Checkout:
    """A GitLab tag pipeline's project folder: GIT_DEPTH 0, cloned by the runner as root."""
    return make_checkout(tmp_path, (SEED_TAG, DEV_TAG), owner="0")


def rendered(output: str, text: str) -> Any:
    """The jobs of a rendered plan, in a shape the assertions compare."""
    if output == "gitlab":
        return yaml.safe_load(text)["deploy churn dev"]["script"]
    if output == "json":
        return [job["command"] for job in json.loads(text)["jobs"]]
    return [line for line in text.splitlines() if line and not line.startswith(("#", "set "))]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("gitlab", [DEPLOY_COMMAND]),
        ("json", [DEPLOY_COMMAND]),
        ("script", ["echo '== deploy churn v1.0.0 to dev (development)'", DEPLOY_COMMAND]),
    ],
)
def test_gitlab_plan_job_renders_the_jobs(
    image: str, tag_pipeline: Checkout, output: str, expected: list[str]
) -> None:
    """examples/workflows/deploy.gitlab-ci.yml's plan job, run in the image: the triggering
    tag from CI_COMMIT_TAG, the file it writes read back on the host."""
    script = f"stagetag dispatch --format {output} --output-file plan.out"
    result = run_gitlab(image, tag_pipeline, script, {"CI_COMMIT_TAG": DEV_TAG})

    assert result.returncode == 0, result.stdout + result.stderr
    text = (tag_pipeline.workspace / "plan.out").read_text()
    assert rendered(output, text) == expected
    if output == "gitlab":
        job = yaml.safe_load(text)["deploy churn dev"]
        assert job["environment"] == {"name": "development", "action": "start"}
        assert job["variables"]["STAGETAG_COMMIT"]["value"] == tag_pipeline.commit
        assert job["tags"] == ["self-hosted", "deploy"]
    assert not (tag_pipeline.workspace / "deployed-dev.txt").exists()


def test_dispatch_run_runs_the_deploy_command_in_the_image(
    image: str, tag_pipeline: Checkout
) -> None:
    """`stagetag dispatch --run`, for a CI without dynamic jobs: the command runs in the
    repository's root with the job's variables."""
    result = run_gitlab(image, tag_pipeline, "stagetag dispatch --run", {"CI_COMMIT_TAG": DEV_TAG})

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tag_pipeline.workspace / "deployed-dev.txt").read_text() == f"churn v1.0.0 {DEV_TAG}\n"
    assert result.stdout.endswith("stagetag: 1 of 1 jobs succeeded\n")


def site_pages(site: Path) -> list[str]:
    return sorted(str(page.relative_to(site)) for page in site.rglob("*.html"))


def test_github_dashboard_writes_the_site_into_the_workspace(image: str, tmp_path: Path) -> None:
    """examples/workflows/publish-dashboard.yml's step: a full clone (fetch-depth 0), the
    site in the workspace for the Pages upload, the registry in the job summary."""
    full = make_checkout(tmp_path / "repo", (SEED_TAG, DEV_TAG))
    run = run_github(image, full, tmp_path, {"command": "dashboard"}, event=tag_push(DEV_TAG))

    assert run.result.returncode == 0, run.result.stdout + run.result.stderr
    site = full.workspace / "site"
    pages = site_pages(site)
    assert len(pages) == 2 and pages[0] == "index.html", pages
    assert re.fullmatch(r"models/churn-[0-9a-f]{8}\.html", pages[1]), pages
    assert (site / "dashboard.css").is_file() and (site / "dashboard.js").is_file()
    assert "Predicts churn" in (site / "index.html").read_text()
    assert run.outputs == {"output": "/github/workspace/site", "pages": "2"}
    assert run.summary.splitlines() == [
        "### stagetag: registry",
        "",
        "| artifact | latest | dev | staging | prod |",
        "|---|---|---|---|---|",
        "| churn | v1.0.0 | v1.0.0 | — | — |",
    ]


def test_cli_dashboard_writes_gitlab_pages_folder(image: str, tag_pipeline: Checkout) -> None:
    """A GitLab pages job: `stagetag dashboard -o public`, the templates from the wheel."""
    result = run_gitlab(image, tag_pipeline, "stagetag dashboard -o public")

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "Wrote 2 pages to public\n"
    public = tag_pipeline.workspace / "public"
    assert site_pages(public)[0] == "index.html"
    assert "v1.0.0" in (public / site_pages(public)[1]).read_text()


def test_stagetag_is_found_with_a_host_path(image: str) -> None:
    """nektos/act in host mode gives a docker action the host's PATH, which lacks a base
    image's venv: the action's entrypoint must still be found."""
    host_path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    result = podman(
        "run", "--rm", f"--env=PATH={host_path}", "--entrypoint=stagetag", image, "--version",
        check=False,
    )  # fmt: skip
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"stagetag, version {version}\n"


def pip_packages(image: str) -> set[str]:
    result = in_image(image, "python -m pip list --format=json --disable-pip-version-check")
    assert result.returncode == 0, result.stderr
    return {package["name"].lower() for package in json.loads(result.stdout)}


# What must not be in the image: apt's lists, binary caches and downloaded packages, pip's
# cache, the source tree or the wheel (anything named stagetag outside the installed package),
# and compilers. Each line printed is an offender.
LEFTOVERS = r"""
find /var/lib/apt/lists -mindepth 1 ! -name lock ! -path '*/partial'
find /var/cache/apt -name '*.bin' -o -name '*.deb'
find / -xdev \( -path /proc -o -path /sys \) -prune -o -path '*/.cache/pip' -print
find / -xdev \( -path /proc -o -path /sys \) -prune -o -path '*stagetag*' -print \
  | grep -v -E '/site-packages/stagetag(/|-[0-9.]+\.dist-info(/|$)|$)|/bin/stagetag$'
find /tmp -mindepth 1
for tool in gcc cc make; do command -v "$tool"; done
true
"""
# Build inputs and products, compared with the base (Debian's venv keeps pip's own wheels).
BUILD_FILES = r"""
find / -xdev \( -path /proc -o -path /sys \) -prune -o \
  \( -name '*.whl' -o -name pyproject.toml -o -name setup.py -o -name '*.egg-info' \) -print
"""


def image_size(image: str) -> int:
    return int(podman("image", "inspect", "--format", "{{.Size}}", image).stdout)


def test_image_holds_only_what_stagetag_needs(
    image: str, record_property: Callable[[str, object], None]
) -> None:
    size, base = image_size(image), image_size(BASE_IMAGE)
    record_property(
        SUMMARY, f"{image}: {size / 1e6:.0f} MB ({(size - base) / 1e6:.0f} MB over {BASE_IMAGE})"
    )

    leftovers = in_image(image, LEFTOVERS)
    assert leftovers.returncode == 0, leftovers.stderr
    assert leftovers.stdout == "", leftovers.stdout
    added_files = set(in_image(image, BUILD_FILES).stdout.split())
    assert added_files - set(in_image(BASE_IMAGE, BUILD_FILES).stdout.split()) == set()
    # The wheel and its dependencies are all that pip added to the base: no build tools.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    dependencies = pyproject["project"]["dependencies"]
    requirements = {re.split(r"[<>=!~ ]", dep)[0].lower() for dep in dependencies}
    added = pip_packages(image) - pip_packages(BASE_IMAGE)
    assert added == {"stagetag", "markupsafe", *requirements}  # markupsafe: Jinja2's
    # git and openssh-client with their dependencies and the package; 205 MB when apt's cache
    # stayed in the layer
    assert size - base < 150e6, f"the image adds {(size - base) / 1e6:.0f} MB to its base"
