"""The GitHub example workflows, run by real runner software (nektos/act) against a real Git
host (tests/fakehost.py: git over smart HTTP, and the workflow_dispatch API), with the action
in the image action.yml names, built from the Dockerfile.

Only a runner shows what the YAML does: expressions, `needs` outputs, a matrix from
`fromJSON`, a reusable workflow, environment variables reaching a step, actions/checkout's
clone and the docker action's mounts. Each test runs one example end to end and checks what
landed: tags on the remote, the API call, what the deploy command saw, the rendered site.

Setup (as root): ci/container-setup.sh (podman, base image) and ci/act-setup.sh (Node 24).
Everything listens on 127.0.0.1; act's version check and servers are kept local.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from action_image import build_action_image, require_podman
from conftest import (
    IDENTITY,
    GitRepo,
    clean_environ,
    isolated_git,
    make_repo,
    require,
    run_stagetag,
    stop,
)
from deploy_recorder import add_recorder, records
from fakehost import FakeHost, GitRequest, push_authorizations, serve

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "workflows"
ACT = ROOT / ".venv" / "bin" / "act"
STAGETAG = ROOT / ".venv" / "bin" / "stagetag"
# The runtime of actions/checkout at CHECKOUT_USES, vendored beside the work tree (MIT).
CHECKOUT = Path(
    os.environ.get(
        "STAGETAG_CHECKOUT_ACTION", ROOT.parent / "shared" / "vendor" / "actions-checkout-v7.0.1"
    )
).resolve()
NODE_BIN = Path(os.environ.get("STAGETAG_NODE_PREFIX", "/opt/stagetag-node")) / "bin"
CHECKOUT_USES = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"
PAGES_USES = "actions/upload-pages-artifact@fc324d3547104276b827a68afc52ff2a11cc49c9"
PROJECT = "acme/models"
TOKEN = "fake-token-7d41c2"
ACT_TIMEOUT = 900  # seconds per act run; 5-10 s here when idle, far more on a loaded machine
ACT_SETUP = "run ci/act-setup.sh as root"

pytestmark = pytest.mark.xdist_group("test_act")


def node_major() -> int:
    try:
        out = subprocess.run(
            [str(NODE_BIN / "node"), "--version"], capture_output=True, text=True, timeout=60
        ).stdout
    except OSError:
        return 0
    return int(out.strip().lstrip("v").split(".")[0] or 0)


# --- the scratch repository -------------------------------------------------------------------

STAGETAG_YAML = """\
deploy:
  stages:
    prod:
      environment: production
      deploy: ./deploy/record.py deploy {{ name }} {{ version }} {{ stage }} {{ path }}
      undeploy: ./deploy/record.py undeploy {{ name }} {{ stage }}
"""

FILES = {
    ".gto": "stages: [dev, staging, prod]\n",
    "stagetag.yaml": STAGETAG_YAML,
    "dvc.yaml": "artifacts:\n  churn:\n    path: churn.pkl\n    type: model\n"
    "    desc: Churn predictor\n",
    "churn.pkl": "weights\n",
    "models/dvc.yaml": "artifacts:\n  fraud:\n    path: fraud.pkl\n    type: model\n",
    "models/fraud.pkl": "weights\n",
}


def stagetag(repo: Path, *args: str) -> str:
    return run_stagetag(*args, cwd=repo, executable=STAGETAG, check=True).stdout


def scratch_repo(path: Path, remote: str) -> tuple[GitRepo, str]:
    """A model repository as a user sets one up: .gto, stagetag.yaml's deploy section, the
    example workflows in .github/workflows, a recording deploy script, and two registered
    versions (`churn@v1.0.0`, and `models:fraud@v0.1.0` in a monorepo folder); pushed."""
    repo = make_repo(path)
    for name, text in FILES.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text, encoding="utf-8")
    add_recorder(path / "deploy" / "record.py")  # records to $REC_FILE, outside the workspace
    workflows = path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for example in EXAMPLES.glob("*.yml"):
        if not example.name.endswith(".gitlab-ci.yml"):
            shutil.copy(example, workflows / example.name)
    repo.git("add", "-A")
    repo.git("commit", "-qm", "Add models")
    commit = repo.git("rev-parse", "HEAD")
    stagetag(path, "register", "churn", "HEAD", "--version", "v1.0.0")
    stagetag(path, "register", "models:fraud", "HEAD", "--version", "v0.1.0")
    repo.git("remote", "add", "origin", remote)
    repo.git("push", "-q", "origin", "main", "--tags")
    return repo, commit


# --- act ----------------------------------------------------------------------------------------


@dataclass
class Runner:
    """act, set up to run the examples on this host against the fake Git host."""

    host: FakeHost
    socket: Path  # podman's Docker API
    stubs: Path  # local stand-ins for actions that need GitHub itself
    tmp: Path
    home: Path

    def run(
        self,
        repo: Path,
        event: str,
        workflow: str,
        payload: dict[str, Any],
        *extra: str,
        env: dict[str, str] | None = None,
        project: str = PROJECT,
    ) -> subprocess.CompletedProcess[str]:
        """Run `workflow` (a file in repo/.github/workflows) for `event`; returns the finished
        process (check returncode: a failing job fails act)."""
        event_file = self.tmp / f"event-{time.monotonic_ns()}.json"
        payload = {"repository": {"full_name": project, "default_branch": "main"}, **payload}
        event_file.write_text(json.dumps(payload), encoding="utf-8")
        cache = self.home / ".cache" / "act"
        cache.mkdir(parents=True, exist_ok=True)
        variables = {
            "GITHUB_SERVER_URL": self.host.url,
            "GITHUB_API_URL": f"{self.host.url}/api/v3",
            "GITHUB_REPOSITORY": project,
            **(env or {}),
        }
        command = [
            str(ACT),
            event,
            "-W",
            f".github/workflows/{workflow}",
            "-e",
            str(event_file),
            "-P",
            "ubuntu-latest=-self-hosted",
            "--pull=false",
            "--container-daemon-socket",
            "-",
            "--no-cache-server",
            "--cache-server-addr",
            "127.0.0.1",
            "--artifact-server-addr",
            "127.0.0.1",
            "--no-skip-checkout",
            "--actor",
            "alice",
            "-s",
            f"GITHUB_TOKEN={TOKEN}",
            "--local-repository",
            f"{CHECKOUT_USES}={CHECKOUT}",
            "--local-repository",
            f"stagetag/stagetag@v1={ROOT}",
            "--local-repository",
            f"{PAGES_USES}={self.stubs / 'upload-pages-artifact'}",
            "--container-options",
            f"--network host -v {cache}:{cache}",
            *[arg for key, value in variables.items() for arg in ("--env", f"{key}={value}")],
            *extra,
        ]
        # act's host mode hands its own environment to docker-action containers too: leave
        # out the test's git identity, so the action has to take the tagger from the actor.
        host_env = {k: v for k, v in clean_environ().items() if k not in IDENTITY}
        process_env = {
            **host_env,
            "HOME": str(self.home),
            "DOCKER_HOST": f"unix://{self.socket}",
            "ACT_DISABLE_VERSION_CHECK": "1",
            # act hands this PATH to docker-action containers too: the image's
            # /usr/local/bin/stagetag link is there for it (test_stagetag_is_found_with_a_host_path)
            "PATH": f"{NODE_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        }
        return subprocess.run(
            command,
            cwd=repo,
            env=process_env,
            capture_output=True,
            text=True,
            timeout=ACT_TIMEOUT,
        )


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    return output


PAGES_STUB = """\
name: upload-pages-artifact (test stub)
description: Copies the site to $PAGES_OUT instead of uploading it.
inputs:
  path:
    description: The folder to upload.
    required: true
runs:
  using: composite
  steps:
    - shell: bash
      env:
        SITE: ${{ inputs.path }}
      run: mkdir -p "$PAGES_OUT" && cp -R "$SITE/." "$PAGES_OUT/"
"""


# --- fixtures -------------------------------------------------------------------------------


@contextmanager
def podman_service(log: Path) -> Iterator[Path]:
    """podman's Docker-compatible API on a socket of our own, for act; stopped afterwards.
    The socket lives in a short /tmp folder: a unix socket path has a 107-byte limit that a
    deep pytest basetemp can exceed."""
    with tempfile.TemporaryDirectory(prefix="stagetag-podman-") as folder, open(log, "wb") as err:
        path = Path(folder) / "podman.sock"
        process = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{path}"],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            deadline = time.monotonic() + 120
            while not _accepts(path):
                assert process.poll() is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, "podman system service did not start"
                time.sleep(0.2)
            yield path
        finally:
            stop(process)


def _accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True


def require_tools() -> None:
    require(ACT.exists(), f"act is missing from {ACT.parent}", "pip install -e '.[dev]'")
    require(
        node_major() >= 24,
        f"Node >= 24 is missing from {NODE_BIN} (actions/checkout v7 is a node24 action)",
        ACT_SETUP,
    )
    require(
        (CHECKOUT / "action.yml").exists(),
        f"the actions/checkout runtime is missing from {CHECKOUT}",
        ACT_SETUP,
    )
    require_podman()


@dataclass
class World:
    """One fake Git host with the user's repository on it, and act pointed at it."""

    runner: Runner
    host: FakeHost
    repo: GitRepo  # the user's clone: act runs here, with the workflows in .github/workflows
    commit: str  # where churn@v1.0.0 and models:fraud@v0.1.0 point
    tmp: Path

    def bare(self, project: str = PROJECT) -> GitRepo:
        return GitRepo(self.host.root / f"{project}.git")

    def fork(self, project: str) -> GitRepo:
        """A copy of the project under another name, and a clone of it: for a test that
        pushes tags the other tests must not see."""
        bare = self.host.root / f"{project}.git"
        subprocess.run(
            ["git", "clone", "-q", "--mirror", str(self.bare().path), str(bare)],
            check=True,
            timeout=120,
        )
        GitRepo(bare).git("config", "http.receivepack", "true")
        clone = self.tmp / project.replace("/", "-")
        subprocess.run(
            ["git", "clone", "-q", self.host.clone_url(project), str(clone)],
            check=True,
            timeout=120,
        )
        return GitRepo(clone)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Once per module (per xdist worker): the image, podman's API, the host and the repo."""
    require_tools()
    build_action_image(tmp_path_factory)
    tmp = tmp_path_factory.mktemp("act")
    stubs = tmp / "stubs"
    (stubs / "upload-pages-artifact").mkdir(parents=True)
    (stubs / "upload-pages-artifact" / "action.yml").write_text(PAGES_STUB, encoding="utf-8")
    with (
        isolated_git(tmp / "home"),
        podman_service(tmp / "podman-service.log") as sock,
        serve(tmp / "host") as host,
    ):
        host.bare(PROJECT)
        repo, commit = scratch_repo(tmp / "user", host.clone_url(PROJECT))
        runner = Runner(host, sock, stubs, tmp, tmp / "home")
        yield World(runner, host, repo, commit, tmp)


MESSAGE = "Ship churn: AUC 0.91 on the March data"


@dataclass
class Assigned:
    log: str  # act's output
    requests: list[GitRequest]  # what reached the Git host during the run


@pytest.fixture(scope="module")
def assigned(world: World) -> Assigned:
    """assign-stage.yml, run from the Actions tab: churn v1.0.0 to prod."""
    inputs = {"name": "churn", "version": "v1.0.0", "stage": "prod", "message": MESSAGE}
    before = len(world.host.requests)
    result = world.runner.run(
        world.repo.path,
        "workflow_dispatch",
        "assign-stage.yml",
        {"ref": "refs/heads/main", "inputs": inputs},
    )
    output = succeeded(result)
    requests = world.host.requests[before:]
    world.repo.git("fetch", "-q", "origin", "--tags")
    return Assigned(output, requests)


def push_event(repo: GitRepo, tag: str) -> dict[str, Any]:
    """The push event GitHub sends for a new tag."""
    return {
        "ref": f"refs/tags/{tag}",
        "before": "0" * 40,
        # act takes github.sha from here; GitHub gives the commit the tag points at
        "after": repo.git("rev-parse", f"refs/tags/{tag}^{{commit}}"),
        "created": True,
        "deleted": False,
    }


def deploy(world: World, repo: GitRepo, tag: str, project: str) -> list[dict[str, Any]]:
    """Run deploy-on-tag.yml for the push of `tag`; what the deploy command recorded."""
    path = world.tmp / f"records-{project.replace('/', '-')}.jsonl"
    result = world.runner.run(
        repo.path,
        "push",
        "deploy-on-tag.yml",
        push_event(repo, tag),
        env={"REC_FILE": str(path)},
        project=project,
    )
    succeeded(result)
    return records(path)


def expect_variables(record: dict[str, Any], expected: dict[str, str]) -> None:
    """The deploy command saw exactly these STAGETAG_* variables."""
    assert dict(record["env"]) == expected


# --- tests ------------------------------------------------------------------------------------


def test_assign_stage_pushes_gtos_tag_and_starts_the_deploy_workflow(
    world: World, assigned: Assigned
) -> None:
    bare = world.bare()
    assert bare.git("cat-file", "-t", "churn#prod#1") == "tag"
    raw = subprocess.run(
        ["git", "-C", str(bare.path), "cat-file", "tag", "churn#prod#1"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    header, _, message = raw.partition("\n\n")
    fields = dict(line.split(" ", 1) for line in header.splitlines())
    # GTO's tag: annotated, on the version's commit, the message verbatim (no newline added)
    assert fields["object"] == world.commit
    assert fields["type"] == "commit"
    assert fields["tag"] == "churn#prod#1"
    assert message == MESSAGE
    # no git identity in the job: the action tags as the actor who ran the workflow
    assert fields["tagger"].startswith("alice <alice@users.noreply.github.com> ")
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    # every push of the run went to the project, with the token (the host takes anonymous ones)
    assert push_authorizations(assigned.requests) == {PROJECT: {f"basic {basic}"}}
    assert world.host.dispatches == [
        {
            "repository": PROJECT,
            "workflow": "deploy-on-tag.yml",
            "authorization": f"Bearer {TOKEN}",
            "body": {"ref": "main", "inputs": {"tag": "churn#prod#1"}},
        }
    ]
    assert "tag=churn#prod#1 created=true" in assigned.log  # the step outputs reach `Report`
    assert TOKEN not in assigned.log  # masked in the log


def test_deploy_on_tag_runs_the_command_with_every_job_variable(
    world: World, assigned: Assigned
) -> None:
    [record] = deploy(world, world.repo, "churn#prod#1", PROJECT)
    assert record["argv"] == ["deploy", "churn", "v1.0.0", "prod", "churn.pkl"]
    expect_variables(
        record,
        {
            "STAGETAG_NAME": "churn",
            "STAGETAG_VERSION": "v1.0.0",
            "STAGETAG_STAGE": "prod",
            "STAGETAG_ENVIRONMENT": "production",
            "STAGETAG_TAG": "churn#prod#1",
            "STAGETAG_COMMIT": world.commit,
            "STAGETAG_EVENT": "assignment",
            "STAGETAG_ACTION": "deploy",
            "STAGETAG_PATH": "churn.pkl",
            "STAGETAG_TYPE": "model",
        },
    )


def test_deploy_on_tag_for_an_artifact_in_a_monorepo_folder(
    world: World, assigned: Assigned
) -> None:
    project = "acme/monorepo"
    repo = world.fork(project)
    stagetag(repo.path, "assign", "models:fraud", "--version", "v0.1.0", "--stage", "prod")
    repo.git("push", "-q", "origin", "--tags")
    assert repo.git("tag", "-l", "models=fraud#prod*") == "models=fraud#prod#1"
    [record] = deploy(world, repo, "models=fraud#prod#1", project)
    # the path is from the repository root: models/dvc.yaml says fraud.pkl
    assert record["argv"] == ["deploy", "models:fraud", "v0.1.0", "prod", "models/fraud.pkl"]
    expect_variables(
        record,
        {
            "STAGETAG_NAME": "models:fraud",
            "STAGETAG_VERSION": "v0.1.0",
            "STAGETAG_STAGE": "prod",
            "STAGETAG_ENVIRONMENT": "production",
            "STAGETAG_TAG": "models=fraud#prod#1",
            "STAGETAG_COMMIT": world.commit,
            "STAGETAG_EVENT": "assignment",
            "STAGETAG_ACTION": "deploy",
            "STAGETAG_PATH": "models/fraud.pkl",
            "STAGETAG_TYPE": "model",
        },
    )


def test_deploy_on_tag_for_an_unassignment_runs_undeploy(world: World, assigned: Assigned) -> None:
    """Nobody else ever held prod, so after the unassignment it is empty: the dispatcher runs
    the stage's `undeploy` command (README, `stagetag dispatch`), with no version or commit."""
    project = "acme/unassigned"
    repo = world.fork(project)
    stagetag(repo.path, "unassign", "churn", "v1.0.0", "--stage", "prod", "--push")
    assert repo.git("tag", "-l", "churn#prod!*") == "churn#prod!#2"
    [record] = deploy(world, repo, "churn#prod!#2", project)
    assert record["argv"] == ["undeploy", "churn", "prod"]
    expect_variables(
        record,
        {
            "STAGETAG_NAME": "churn",
            "STAGETAG_VERSION": "",
            "STAGETAG_STAGE": "prod",
            "STAGETAG_ENVIRONMENT": "production",
            "STAGETAG_TAG": "churn#prod!#2",
            "STAGETAG_COMMIT": "",
            "STAGETAG_EVENT": "unassignment",
            "STAGETAG_ACTION": "undeploy",
            "STAGETAG_PATH": "churn.pkl",
            "STAGETAG_TYPE": "model",
        },
    )


def test_publish_dashboard_renders_the_site_it_uploads(world: World, assigned: Assigned) -> None:
    pages = world.tmp / "pages"
    result = world.runner.run(
        world.repo.path,
        "push",
        "publish-dashboard.yml",
        push_event(world.repo, "churn#prod#1"),
        "-j",
        "build",  # deploy needs the Pages API and OIDC
        env={"PAGES_OUT": str(pages)},
    )
    succeeded(result)
    site = {p.relative_to(pages).as_posix() for p in pages.rglob("*") if p.is_file()}
    assert "index.html" in site
    index = (pages / "index.html").read_text(encoding="utf-8")
    assert "churn" in index and "fraud" in index
    model_pages = [p for p in site if p.startswith("models/") and p.endswith(".html")]
    assert len(model_pages) == 2, site
    # the same site `stagetag dashboard` renders from a fresh clone of the remote
    clone = world.tmp / "dashboard-clone"
    subprocess.run(
        ["git", "clone", "-q", world.host.clone_url(PROJECT), str(clone)], check=True, timeout=120
    )
    stagetag(clone, "dashboard", "-o", str(world.tmp / "local-site"))
    local = world.tmp / "local-site"
    assert site == {p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()}
    for name in site:
        assert (pages / name).read_bytes() == (local / name).read_bytes(), name
    churn_page = next((pages / p).read_text(encoding="utf-8") for p in model_pages if "churn" in p)
    assert "churn#prod#1" in churn_page and MESSAGE in churn_page
