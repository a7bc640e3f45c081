"""The GitLab examples and CI/CD components, run by real runner software (gitlab-ci-local)
against a real Git host (tests/fakehost.py: git over smart HTTP), in the released image's
name, built from the Dockerfile.

Only a runner shows what the YAML does: `include: component:` resolved from a project on the
same host at a release tag, `spec:inputs` interpolated and checked, rules, stages, a dotenv
report, and a child pipeline rendered by one job and triggered by another. Each run checks
what landed: the tag on the remote and the token it was pushed with, the report, and what the
deploy command saw.

The component project is stagetag's templates/ pushed to the loopback host as
`stagetag/stagetag` with the tag the examples pin, so the examples run exactly as users
include them. Deploy jobs in the child pipeline have no image and run on the host (as
gitlab-ci-local runs image-less jobs), recording their arguments and STAGETAG_* variables.

Setup (as root): ci/container-setup.sh (podman, base images), then
ci/gitlab-ci-local-setup.sh (Node, gitlab-ci-local, rsync, the helper image).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import pytest
import yaml
from action_image import build_action_image, require_podman
from conftest import IDENTITY, GitRepo, clean_environ, isolated_git, make_repo, require
from deploy_recorder import add_recorder, records
from fakehost import FakeHost, GitRequest, push_authorizations, serve

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "workflows"
GCL_PREFIX = Path(os.environ.get("STAGETAG_GCL_PREFIX", "/opt/stagetag-gitlab-ci-local"))
GCL = GCL_PREFIX / "bin" / "gitlab-ci-local"
HELPER_IMAGE = os.environ.get(
    "STAGETAG_GCL_HELPER_IMAGE", "localhost/stagetag-gitlab-ci-local-helper:1"
)
PODMAN = Path(__file__).parent / "gitlab" / "podman"
COMPONENT_PROJECT = "stagetag/stagetag"
RELEASE = package_version("stagetag")
TOKEN = "glpat-fake-3c9e1a"
TIMEOUT = 900  # seconds; a loaded 2-core machine runs one job in about ten
SETUP = "run ci/container-setup.sh and ci/gitlab-ci-local-setup.sh as root"

pytestmark = pytest.mark.xdist_group("test_gitlab_ci_local")


def require_tools() -> None:
    require_podman()
    require(GCL.exists(), f"{GCL} is missing", SETUP)
    require(shutil.which("rsync") is not None, "rsync is missing", SETUP)
    exists = subprocess.run(["podman", "image", "exists", HELPER_IMAGE], timeout=120)
    require(exists.returncode == 0, f"the helper image {HELPER_IMAGE} is missing", SETUP)


@dataclass
class Lab:
    """The loopback host with the component project on it, and the image the jobs run."""

    host: FakeHost
    image: str


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """Every process here runs isolated (conftest.isolated_git; the autouse fixture does the
    same per test): a private HOME (gitlab-ci-local reads ~/.gitlab-ci-local), a pinned
    identity, no git config, and none of the CI variables of the machine running the suite."""
    require_tools()
    image = build_action_image(tmp_path_factory)
    base = tmp_path_factory.mktemp("gitlab-lab")
    with isolated_git(base / "home", clear_ci=True), serve(base / "srv") as host:
        publish_components(host, base / "components")
        yield Lab(host, image)


def publish_components(host: FakeHost, work: Path) -> None:
    """templates/ as the component project, tagged with the release the examples pin."""
    bare = GitRepo(host.bare(COMPONENT_PROJECT))
    bare.git("config", "uploadpack.allowFilter", "true")  # gitlab-ci-local clones sparse
    repo = make_repo(work)
    shutil.copytree(ROOT / "templates", work / "templates")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "components")
    repo.git("tag", "-a", RELEASE, "-m", RELEASE)
    repo.git("push", "-q", host.clone_url(COMPONENT_PROJECT), "main", RELEASE)


STAGETAG_YAML = """\
deploy:
  stages:
    staging:
      deploy: ./deploy/record.py {{ name }} {{ version }} {{ stage }} {{ path }}
    prod:
      environment: production
      deploy: ./deploy/record.py {{ name }} {{ version }} {{ stage }} {{ path }}
"""

ARTIFACTS_YAML = """\
churn:
  type: model
  path: models/churn.pkl
  description: Churn classifier
"""


@dataclass
class Project:
    """A GitLab project: a working copy (where gitlab-ci-local runs, as a runner's checkout)
    whose origin is a bare repository on the loopback host, with `churn@v1.0.0` registered."""

    lab: Lab
    path: str  # group/name on the host
    work: GitRepo
    commit: str  # what churn@v1.0.0 points at

    @property
    def remote(self) -> Path:
        return self.lab.host.bare(self.path)

    def remote_git(self, *args: str) -> str:
        return GitRepo(self.remote).git(*args)

    def records(self) -> list[dict[str, Any]]:
        """What the deploy command recorded: it runs in the working copy (asserted)."""
        return records(self.work.path / "records.jsonl")

    def dotenv(self, job: str) -> dict[str, str]:
        """The job's dotenv report, as gitlab-ci-local collected it for later jobs."""
        report = self.work.path / ".gitlab-ci-local" / "artifacts" / job / ".gitlab-ci-reports"
        text = (report / "dotenv" / "stagetag.env").read_text(encoding="utf-8")
        return dict(line.split("=", 1) for line in text.splitlines() if line)

    def child_pipeline(self, job: str) -> dict[str, Any]:
        """The pipeline `job` rendered, from its artifacts (what the trigger job ran)."""
        path = self.work.path / ".gitlab-ci-local" / "artifacts" / job / "child-pipeline.yml"
        document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        return document

    def gcl(self, *args: str, variables: dict[str, str] | None = None, check: bool = True) -> Run:
        """gitlab-ci-local in the working copy, jobs in podman on the host network, with the
        variables a real GitLab pipeline would have (GITLAB_CI=true, not gitlab-ci-local's
        false); with what reached the Git host while it ran."""
        variables = {"GITLAB_CI": "true", **(variables or {})}
        unset = []
        if "CI_COMMIT_TAG" in variables:  # a tag pipeline: the ref is the tag, no branch
            variables.setdefault("CI_COMMIT_REF_NAME", variables["CI_COMMIT_TAG"])
            unset = ["--unset-variable", "CI_COMMIT_BRANCH"]
        command = [
            str(GCL),
            "--container-executable",
            str(PODMAN),
            "--pull-policy",
            "if-not-present",
            "--network",
            "host",
            "--helper-image",
            HELPER_IMAGE,
            "--no-color",
            "--max-job-name-padding",
            "0",
            "--ignore-predefined-vars",
            ",".join(variables),
            *unset,
        ]
        for key, value in variables.items():
            command += ["--variable", f"{key}={value}"]
        before = len(self.lab.host.requests)
        result = subprocess.run(
            [*command, *args],
            cwd=self.work.path,
            env=clean_environ(),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        if check:
            assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
        return Run(result.returncode, result.stdout, result.stderr, self.lab.host.requests[before:])

    def pushed_with(self, run: Run) -> set[str]:
        """The Authorization headers of the run's pushes to this project."""
        return push_authorizations(run.requests).get(self.path, set())


@dataclass
class Run:
    """A finished gitlab-ci-local run."""

    returncode: int
    stdout: str
    stderr: str
    requests: list[GitRequest]  # what reached the Git host during the run


def make_project(lab: Lab, folder: Path, gitlab_ci: str, files: dict[str, str]) -> Project:
    """Push a project with `.gitlab-ci.yml` (and `files`) to the host and check it out."""
    path = f"models/p{uuid.uuid4().hex[:8]}"
    lab.host.bare(path)
    work = make_repo(folder / "work")
    work.git("config", "user.name", IDENTITY["GIT_COMMITTER_NAME"])  # gitlab-ci-local reads it
    work.git("config", "user.email", IDENTITY["GIT_COMMITTER_EMAIL"])
    contents = {
        ".gto": "stages: [dev, staging, prod]\n",
        "artifacts.yaml": ARTIFACTS_YAML,
        "stagetag.yaml": STAGETAG_YAML,
        "models/churn.pkl": "weights\n",
        ".gitlab-ci.yml": gitlab_ci,
        ".gitignore": "/records.jsonl\n/stagetag.env\n/child-pipeline.yml\n",
        **files,
    }
    for name, text in contents.items():
        target = work.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    add_recorder(work.path / "deploy" / "record.py")
    work.git("add", "-A")
    work.git("commit", "-qm", "A model and its pipeline")
    commit = work.git("rev-parse", "HEAD")
    message = "Registering artifact churn version v1.0.0"
    work.git("tag", "-a", "churn@v1.0.0", "-m", message, "--cleanup=verbatim")
    work.git("remote", "add", "origin", lab.host.clone_url(path))
    work.git("push", "-q", "origin", "main", "churn@v1.0.0")
    work.git("remote", "set-head", "origin", "main")
    return Project(lab, path, work, commit)


def example(name: str) -> str:
    return (EXAMPLES / name).read_text(encoding="utf-8")


TOGETHER = {
    ".gitlab-ci.yml": "include:\n"
    "  - local: ci/assign-stage.gitlab-ci.yml\n"
    "  - local: ci/deploy.gitlab-ci.yml\n",
    "ci/assign-stage.gitlab-ci.yml": example("assign-stage.gitlab-ci.yml"),
    "ci/deploy.gitlab-ci.yml": example("deploy.gitlab-ci.yml"),
}
CONFIGS = {
    "together": TOGETHER,
    "assign alone": {".gitlab-ci.yml": example("assign-stage.gitlab-ci.yml")},
    "deploy alone": {".gitlab-ci.yml": example("deploy.gitlab-ci.yml")},
}


def project_for(lab: Lab, folder: Path, config: str) -> Project:
    files = dict(CONFIGS[config])
    return make_project(lab, folder, files.pop(".gitlab-ci.yml"), files)


def form(stage: str, message: str, **extra: str) -> dict[str, str]:
    """A "Run pipeline" form submission, as GitLab passes it: pipeline variables."""
    return {
        "CI_PIPELINE_SOURCE": "web",
        "NAME": "churn",
        "VERSION": "v1.0.0",
        "STAGE": stage,
        "MESSAGE": message,
        "GITLAB_USER_LOGIN": "release-bot",
        "GITLAB_USER_NAME": "Release Bot",
        "GITLAB_USER_EMAIL": "release-bot@example.com",
        **extra,
    }


def tag_pipeline(tag: str) -> dict[str, str]:
    return {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": tag}


def basic(token: str) -> str:
    return "basic " + base64.b64encode(f"oauth2:{token}".encode()).decode()


def assert_assigned(
    project: Project, run: Run, tag: str, stage: str, message: str, token: str
) -> None:
    """The remote holds `tag` as GTO writes it: an annotated tag on churn@v1.0.0's commit,
    from the GitLab user, with the form's message; `run` pushed it, with the token."""
    assert project.remote_git("cat-file", "-t", f"refs/tags/{tag}") == "tag"
    assert project.remote_git("rev-parse", f"refs/tags/{tag}^{{commit}}") == project.commit
    fields = "%(taggername)|%(taggeremail)|%(contents)"
    shown = project.remote_git("for-each-ref", f"--format={fields}", f"refs/tags/{tag}")
    assert shown == f"Release Bot|<release-bot@example.com>|{message}"
    assert project.pushed_with(run) == {basic(token)}  # the host would take an anonymous push
    assert project.dotenv("assign-stage") == {
        "STAGETAG_OUT_TAG": tag,
        "STAGETAG_OUT_TAGS": tag,
        "STAGETAG_OUT_RECOVERED": "",
        "STAGETAG_OUT_EVENT": "assignment",
        "STAGETAG_OUT_NAME": "churn",
        "STAGETAG_OUT_VERSION": "v1.0.0",
        "STAGETAG_OUT_STAGE": stage,
        "STAGETAG_OUT_COMMIT": project.commit,
        "STAGETAG_OUT_CREATED": "true",
        "STAGETAG_OUT_PUSHED": "true",
    }


def assert_deployed(project: Project, tag: str, stage: str, environment: str) -> None:
    """The child pipeline ran the stage's command once, with the job's variables: every
    variable the rendered job sets (`job_variables`), holding what the tag says."""
    child = project.child_pipeline("deploy-plan")
    assert child["stages"] == ["deploy"]
    jobs = {name: job for name, job in child.items() if name != "stages"}
    assert len(jobs) == 1, jobs
    (job,) = jobs.values()
    assert job["environment"]["name"] == environment
    rendered = {key: variable["value"] for key, variable in job["variables"].items()}
    records = project.records()
    assert len(records) == 1, records
    record = records[0]
    assert record["argv"] == ["churn", "v1.0.0", stage, "models/churn.pkl"]
    assert Path(record["cwd"]) == project.work.path
    assert record["environment"] == environment
    assert record["env"] == rendered
    assert rendered == {
        "STAGETAG_NAME": "churn",
        "STAGETAG_VERSION": "v1.0.0",
        "STAGETAG_STAGE": stage,
        "STAGETAG_ENVIRONMENT": environment,
        "STAGETAG_TAG": tag,
        "STAGETAG_COMMIT": project.commit,
        "STAGETAG_EVENT": "assignment",
        "STAGETAG_ACTION": "deploy",
        "STAGETAG_PATH": "models/churn.pkl",
        "STAGETAG_TYPE": "model",
    }


def test_examples_pin_the_release() -> None:
    """The examples include the components at the package's version, and the components'
    default image is the image released with it (the one action.yml runs)."""
    for name in ("assign-stage.gitlab-ci.yml", "deploy.gitlab-ci.yml"):
        includes = yaml.safe_load(example(name))["include"]
        assert [i["component"].rsplit("@", 1)[1] for i in includes] == [RELEASE]
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    for name in ("assign", "deploy"):
        spec = next(yaml.safe_load_all((ROOT / "templates" / f"{name}.yml").read_text()))
        image = spec["spec"]["inputs"]["image"]["default"]
        assert image == action["runs"]["image"].removeprefix("docker://")
        assert image.endswith(f":{RELEASE}")


@pytest.mark.parametrize("config", CONFIGS)
def test_examples_validate(lab: Lab, tmp_path: Path, config: str) -> None:
    """Each example alone and both together: the components resolve from the host, every
    job's stage exists (GitLab's default stages), and rules pick the right jobs."""
    project = project_for(lab, tmp_path, config)
    preview = yaml.safe_load(project.gcl("--preview").stdout)
    stages = preview["stages"]
    assert stages == [".pre", "build", "test", "deploy", ".post"]
    jobs = {name: job for name, job in preview.items() if isinstance(job, dict) and "stage" in job}
    wanted = {
        "together": {"assign-stage", "deploy-plan", "deploy-trigger"},
        "assign alone": {"assign-stage"},
        "deploy alone": {"deploy-plan", "deploy-trigger"},
    }[config]
    assert set(jobs) == wanted
    for job in jobs.values():
        assert job["stage"] in stages
        if "image" in job:
            assert job["image"]["name"] == lab.image
    web = listed(project, form("prod", "why"))
    push = listed(project, tag_pipeline("churn#prod#1"))
    assert web == wanted & {"assign-stage"}
    # the dashboard's Deprecate: NAME and the command, no version; without either, nothing
    deprecate = listed(project, form("", "", VERSION="", STAGETAG_COMMAND="deprecate"))
    assert deprecate == wanted & {"assign-stage"}
    assert listed(project, form("prod", "why", VERSION="")) == set()
    assert push == wanted & {"deploy-plan", "deploy-trigger"}


def listed(project: Project, variables: dict[str, str]) -> set[str]:
    """The jobs a pipeline with these variables would run (`--list-json`, rules applied)."""
    jobs = json.loads(project.gcl("--list-json", variables=variables).stdout)
    return {job["name"] for job in jobs if job.get("when") != "never"}


def test_examples_together_assign_then_deploy(lab: Lab, tmp_path: Path) -> None:
    """One .gitlab-ci.yml including both examples: the form's pipeline pushes the stage tag
    (and only the assign job runs), then that tag's pipeline deploys it."""
    project = project_for(lab, tmp_path, "together")
    run = project.gcl(variables=form("prod", "Ship the Q3 model", STAGETAG_TOKEN=TOKEN))
    assert "PASS  assign-stage" in run.stdout
    assert "deploy-plan" not in run.stdout
    assert_assigned(project, run, "churn#prod#1", "prod", "Ship the Q3 model", TOKEN)
    assert project.records() == []

    # the working copy lacks the tag the job pushed: the plan job's dispatch fetches it
    assert project.work.git("tag", "--list", "churn#prod#1") == ""
    run = project.gcl(variables=tag_pipeline("churn#prod#1"))
    assert "PASS  deploy-trigger" in run.stdout
    assert "assign-stage" not in run.stdout
    assert_deployed(project, "churn#prod#1", "prod", "production")


def test_assign_example_alone(lab: Lab, tmp_path: Path) -> None:
    project = project_for(lab, tmp_path, "assign alone")
    run = project.gcl(variables=form("staging", "Try it", STAGETAG_TOKEN=TOKEN))
    assert_assigned(project, run, "churn#staging#1", "staging", "Try it", TOKEN)


def test_deploy_example_alone(lab: Lab, tmp_path: Path) -> None:
    """A stage tag pushed by anyone (here: git, as GTO writes it) deploys."""
    project = project_for(lab, tmp_path, "deploy alone")
    work = project.work
    message = "Assigning stage staging to artifact churn version v1.0.0"
    work.git("tag", "-a", "churn#staging#1", "-m", message, "--cleanup=verbatim", project.commit)
    work.git("push", "-q", "origin", "churn#staging#1")
    run = project.gcl(variables=tag_pipeline("churn#staging#1"))
    assert "PASS  deploy-trigger" in run.stdout
    assert_deployed(project, "churn#staging#1", "staging", "staging")


def test_deploy_ignores_a_tag_that_is_not_gtos(lab: Lab, tmp_path: Path) -> None:
    """A release tag of the project itself triggers the same pipeline: nothing deploys."""
    project = project_for(lab, tmp_path, "deploy alone")
    project.work.git("tag", "-a", "v2.0.0", "-m", "release")
    project.work.git("push", "-q", "origin", "v2.0.0")
    run = project.gcl(variables=tag_pipeline("v2.0.0"))
    assert "stagetag: nothing to deploy" in run.stdout
    assert project.records() == []


COMPONENT_INPUTS = f"""\
stages: [promote, ship]
include:
  - component: $CI_SERVER_FQDN/{COMPONENT_PROJECT}/assign@{RELEASE}
    inputs:
      stage: promote
      job_name: register-churn
      command: register
      name: churn
      version: v1.1.0
      message: Retrained on March data
      rules_if: $CI_PIPELINE_SOURCE == "push" && $CI_COMMIT_BRANCH
      token_variable: BOT_TOKEN
  - component: $CI_SERVER_FQDN/{COMPONENT_PROJECT}/deploy@{RELEASE}
    inputs:
      plan_stage: promote
      stage: ship
      job_prefix: models
"""


def test_component_inputs(lab: Lab, tmp_path: Path) -> None:
    """Inputs name the jobs and their stages, and the assign job takes literal values and
    the token from the variable `token_variable` names: it registers v1.1.0 on a push."""
    project = make_project(lab, tmp_path, COMPONENT_INPUTS, {})
    retrained = project.work.commit("retrained")
    project.work.git("push", "-q", "origin", "main")
    preview = yaml.safe_load(project.gcl("--preview").stdout)
    assert preview["stages"] == [".pre", "promote", "ship", ".post"]
    assert preview["register-churn"]["stage"] == "promote"
    assert preview["models-plan"]["stage"] == "promote"
    assert preview["models-trigger"]["stage"] == "ship"
    assert preview["models-trigger"]["trigger"]["include"][0]["job"] == "models-plan"
    assert listed(project, tag_pipeline("churn#prod#1")) == {"models-plan", "models-trigger"}

    run = project.gcl(variables={"CI_PIPELINE_SOURCE": "push", "BOT_TOKEN": "bot-token-51"})
    assert project.remote_git("cat-file", "-t", "refs/tags/churn@v1.1.0") == "tag"
    assert project.remote_git("rev-parse", "refs/tags/churn@v1.1.0^{commit}") == retrained
    assert project.pushed_with(run) == {basic("bot-token-51")}
    report = project.dotenv("register-churn")
    assert (report["STAGETAG_OUT_EVENT"], report["STAGETAG_OUT_VERSION"]) == (
        "registration",
        "v1.1.0",
    )


@pytest.mark.parametrize(
    ("config", "error"),
    [
        (  # an input outside its options
            f"include:\n  - component: $CI_SERVER_FQDN/{COMPONENT_PROJECT}/assign@{RELEASE}\n"
            "    inputs: {command: promote}\n",
            "not in the list of allowed options",
        ),
        (  # a pipeline whose stages lack the component's default stage
            f"stages: [build, test]\n"
            f"include:\n  - component: $CI_SERVER_FQDN/{COMPONENT_PROJECT}/deploy@{RELEASE}\n",
            "stage:deploy not found for deploy-trigger",
        ),
    ],
    ids=["bad option", "unknown stage"],
)
def test_component_misuse_is_rejected(lab: Lab, tmp_path: Path, config: str, error: str) -> None:
    project = make_project(lab, tmp_path, config, {})
    result = project.gcl("--list", check=False)
    assert result.returncode != 0, result.stdout
    assert error in result.stdout + result.stderr
