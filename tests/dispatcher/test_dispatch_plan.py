"""What `dispatch` decides, in process, on one registry built once with fixed tag dates:
staleness, GTO's fallback after unassignment and deregistration, undeploy, several tags at
once, monorepo names, annotations from dvc.yaml or artifacts.yaml, overrides and `events:`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import GitRepo, isolated_git, make_repo
from dispatch_helpers import validate_github_matrix, validate_gitlab, write

from stagetag.dispatcher.config import DeployConfig, load_deploy_config
from stagetag.dispatcher.plan import DispatchPlan, Job, plan_dispatch
from stagetag.dispatcher.targets import render
from stagetag.errors import StagetagError
from stagetag.registry import Registry, load_registry
from stagetag.settings import load_settings

CONFIG = """\
deploy:
  defaults:
    runs_on: [self-hosted]
    timeout: 600
  stages:
    prod:
      environment: production
      deploy: deploy {{ name }} {{ version }} {{ path }}
      undeploy: undeploy {{ name }}
    dev:
      deploy: deploy-dev {{ name }} {{ version }}
  artifacts:
    - match: "nlp:*"
      stages:
        prod:
          deploy: nlp-deploy {{ folder }} {{ short_name }} {{ version }} {{ path }}
          runs_on: [gpu]
    - type: dataset
      stages:
        prod:
          deploy: echo dataset {{ name }} needs no deployment
          environment: data-{{ stage }}
"""

ROOT_ARTIFACTS = ("stale", "fall", "empty", "dereg", "dereg2", "dereg3", "multi", "dep", "nostage")

# (tag, commit: 1 or 2); each tag one minute after the previous
TAGS = [
    ("stale@v1.0.0", 1),
    ("stale#prod#1", 1),
    ("stale@v2.0.0", 2),
    ("stale#prod#2", 2),
    ("fall@v1.0.0", 1),
    ("fall#prod#1", 1),
    ("fall@v2.0.0", 2),
    ("fall#prod#2", 2),
    ("fall#prod!#3", 2),
    ("empty@v1.0.0", 1),
    ("empty#prod#1", 1),
    ("empty#prod!#2", 1),
    ("empty#dev#3", 1),
    ("empty#dev!#4", 1),
    ("dereg@v1.0.0", 1),
    ("dereg#prod#1", 1),
    ("dereg@v2.0.0", 2),
    ("dereg#prod#2", 2),
    ("dereg@v2.0.0!", 2),
    ("dereg2@v1.0.0", 1),
    ("dereg2#prod#1", 1),
    ("dereg2@v2.0.0", 2),
    ("dereg2#prod#2", 2),
    ("dereg2@v1.0.0!", 1),
    ("dereg3@v1.0.0", 1),
    ("dereg3#prod#1", 1),
    ("dereg3@v1.0.0!", 1),
    ("multi@v1.0.0", 2),
    ("multi#prod#1", 2),
    ("multi#dev#2", 2),
    ("nlp=sentiment@v1.0.0", 1),
    ("nlp=sentiment#prod#1", 1),
    ("rootonly@v1.0.0", 1),
    ("rootonly#prod#1", 1),
    ("data@v1.0.0", 1),
    ("data#prod#1", 1),
    ("dep@v1.0.0", 1),
    ("dep#prod#1", 1),
    ("dep@deprecated", 1),
    ("nostage@v1.0.0", 1),
    ("nostage#qa#1", 1),
]


def dvc_yaml(n: int) -> str:
    artifacts = {a: {"path": f"models/{a}-{n}.pkl", "type": "model"} for a in ROOT_ARTIFACTS}
    artifacts["data"] = {"path": "data/d.csv", "type": "dataset", "desc": "a dataset"}
    return yaml.safe_dump({"artifacts": artifacts})


@dataclass(frozen=True)
class Scenario:
    repo: GitRepo
    cfg: Path  # a folder holding stagetag.yaml variants (outside the repository)
    commits: dict[int, str]
    registry: Registry


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    base = tmp_path_factory.mktemp("plan")
    with isolated_git(base / "home", clear_ci=True):
        repo = make_repo(base / "repo")
        commits = {}
        for n in (1, 2):
            write(repo.path / "dvc.yaml", dvc_yaml(n))
            write(
                repo.path / "nlp" / "dvc.yaml",
                "artifacts:\n  sentiment:\n    path: models/s.pkl\n    type: model\n"
                "    desc: sentiment model\n",
            )
            write(
                repo.path / "artifacts.yaml",
                "rootonly:\n  type: model\n  path: models/r.pkl\n  description: from the index\n",
            )
            commits[n] = repo.commit(f"c{n}", date=f"2024-01-0{n}T12:00:00+0000")
        start = 1706745600  # 2024-02-01T00:00:00Z
        for i, (tag, n) in enumerate(TAGS):
            repo.tag(tag, commits[n], f"@{start + 60 * i} +0000", message=f"message of {tag}")
        registry = load_registry(repo.path, with_commits=True)
    cfg = base / "cfg"
    write(cfg / "stagetag.yaml", CONFIG)
    return Scenario(repo, cfg, commits, registry)


def config(scenario: Scenario, text: str = CONFIG, name: str = "stagetag.yaml") -> DeployConfig:
    path = write(scenario.cfg / name, text)
    return load_deploy_config(load_settings(scenario.repo.path, path))


def plan(scenario: Scenario, *refs: str, cfg: DeployConfig | None = None) -> DispatchPlan:
    return plan_dispatch(scenario.registry, cfg or config(scenario), list(refs))


def only_job(result: DispatchPlan) -> Job:
    assert len(result.jobs) == 1, (result.jobs, result.notices)
    return result.jobs[0]


def test_current_assignment_deploys_with_merged_settings(scenario: Scenario) -> None:
    job = only_job(plan(scenario, "refs/tags/stale#prod#2"))
    assert job.action == "deploy"
    assert (job.artifact, job.stage, job.version) == ("stale", "prod", "v2.0.0")
    assert job.environment == "production"
    assert job.command == "deploy stale v2.0.0 models/stale-2.pkl"
    assert job.runs_on == ("self-hosted",)
    assert job.timeout == 600
    assert job.concurrency == "deploy-stale-prod"
    assert job.title == "deploy stale v2.0.0 to prod (production)"
    assert job.context["commit"] == scenario.commits[2]
    assert job.context["event"] == "assignment"
    assert job.context["tag"] == "stale#prod#2"
    assert job.context["message"] == "message of stale#prod#2"
    assert job.context["tagger"] == "Alice Tester"


def test_stale_assignment_is_skipped_with_a_notice(scenario: Scenario) -> None:
    result = plan(scenario, "stale#prod#1")
    assert result.jobs == []
    assert result.notices == [
        "stale#prod#1: skipped, prod is held by v2.0.0 now (the tag is stale)"
    ]


def test_unassignment_deploys_the_previous_holder(scenario: Scenario) -> None:
    job = only_job(plan(scenario, "fall#prod!#3"))
    assert (job.action, job.version) == ("deploy", "v1.0.0")
    assert job.command == "deploy fall v1.0.0 models/fall-1.pkl"
    assert job.context["commit"] == scenario.commits[1]
    assert job.context["event"] == "unassignment"
    assert job.context["tag"] == "fall#prod!#3"
    # the unassigned version's own assignment is stale now
    assert plan(scenario, "fall#prod#2").notices == [
        "fall#prod#2: skipped, prod is held by v1.0.0 now (the tag is stale)"
    ]


def test_emptied_stage_runs_undeploy(scenario: Scenario) -> None:
    job = only_job(plan(scenario, "empty#prod!#2"))
    assert (job.action, job.version, job.stage) == ("undeploy", None, "prod")
    assert job.command == "undeploy empty"
    assert job.title == "undeploy empty to prod (production)"
    assert job.context["action"] == "undeploy"


def test_emptied_stage_without_undeploy_gives_a_notice(scenario: Scenario) -> None:
    result = plan(scenario, "empty#dev!#4")
    assert result.jobs == []
    assert result.notices == [
        "empty#dev!#4: nothing to run, stagetag.yaml has no undeploy: for dev (it is empty now)"
    ]


def test_deregistered_holder_falls_back_to_previous_version(scenario: Scenario) -> None:
    job = only_job(plan(scenario, "dereg@v2.0.0!"))
    assert (job.action, job.version) == ("deploy", "v1.0.0")
    assert job.command == "deploy dereg v1.0.0 models/dereg-1.pkl"
    assert job.context["event"] == "deregistration"


def test_deregistering_a_shadowed_version_changes_nothing(scenario: Scenario) -> None:
    assert plan(scenario, "dereg2@v1.0.0!").jobs == []


def test_deregistering_the_only_holder_undeploys(scenario: Scenario) -> None:
    job = only_job(plan(scenario, "dereg3@v1.0.0!"))
    assert (job.action, job.command) == ("undeploy", "undeploy dereg3")


def test_registration_and_assignment_give_one_job(scenario: Scenario) -> None:
    result = plan(scenario, "multi@v1.0.0", "multi#prod#1")
    assert [(j.artifact, j.stage) for j in result.jobs] == [("multi", "prod")]
    assert result.notices == ["multi@v1.0.0: registration events do not deploy (see deploy.events)"]


def test_two_stages_in_one_push_give_two_jobs(scenario: Scenario) -> None:
    result = plan(scenario, "multi#prod#1", "multi#dev#2")
    assert [(j.stage, j.command) for j in result.jobs] == [
        ("prod", "deploy multi v1.0.0 models/multi-2.pkl"),
        ("dev", "deploy-dev multi v1.0.0"),
    ]
    assert result.notices == []


def test_same_tag_twice_gives_one_job(scenario: Scenario) -> None:
    result = plan(scenario, "multi#prod#1", "refs/tags/multi#prod#1")
    assert len(result.jobs) == 1


def test_monorepo_artifact_path_is_resolved_from_its_folder(scenario: Scenario) -> None:
    job = only_job(plan(scenario, "refs/tags/nlp=sentiment#prod#1"))
    assert job.artifact == "nlp:sentiment"
    assert job.command == "nlp-deploy nlp sentiment v1.0.0 nlp/models/s.pkl"
    assert job.runs_on == ("gpu",)  # the override's, not the defaults'
    assert job.environment == "production"  # kept from stages.prod
    ctx = job.context
    assert (ctx["name"], ctx["folder"], ctx["short_name"]) == ("nlp:sentiment", "nlp", "sentiment")
    assert (ctx["path"], ctx["type"], ctx["description"]) == (
        "nlp/models/s.pkl",
        "model",
        "sentiment model",
    )


def test_root_artifact_falls_back_to_artifacts_yaml(scenario: Scenario) -> None:
    job = only_job(plan(scenario, "rootonly#prod#1"))
    assert job.command == "deploy rootonly v1.0.0 models/r.pkl"
    assert (job.context["type"], job.context["description"]) == ("model", "from the index")


def test_override_by_type(scenario: Scenario) -> None:
    job = only_job(plan(scenario, "data#prod#1"))
    assert job.command == "echo dataset data needs no deployment"
    assert job.environment == "data-prod"
    assert job.runs_on == ("self-hosted",)


def test_override_by_name_glob_that_does_not_match(scenario: Scenario) -> None:
    text = CONFIG.replace('"nlp:*"', '"other:*"')
    job = only_job(plan(scenario, "nlp=sentiment#prod#1", cfg=config(scenario, text, "glob.yaml")))
    assert job.command == "deploy nlp:sentiment v1.0.0 nlp/models/s.pkl"


def test_stage_without_target_gives_a_notice(scenario: Scenario) -> None:
    result = plan(scenario, "nostage#qa#1")
    assert result.jobs == []
    assert result.notices == ["nostage#qa#1: stage 'qa' has no deploy target in stagetag.yaml"]


def test_deprecation_does_not_deploy_by_default(scenario: Scenario) -> None:
    result = plan(scenario, "dep@deprecated")
    assert result.jobs == []
    assert result.notices == [
        "dep@deprecated: deprecation events do not deploy (see deploy.events)"
    ]


def test_deprecation_undeploys_when_configured(scenario: Scenario) -> None:
    text = "deploy:\n  events: [deprecation]\n" + CONFIG.removeprefix("deploy:\n")
    result = plan(scenario, "dep@deprecated", cfg=config(scenario, text, "deprecation.yaml"))
    assert [(j.action, j.stage, j.command) for j in result.jobs] == [
        ("undeploy", "prod", "undeploy dep")
    ]


def test_events_config_can_exclude_unassignment(scenario: Scenario) -> None:
    text = "deploy:\n  events: [assignment, deregistration]\n" + CONFIG.removeprefix("deploy:\n")
    cfg = config(scenario, text, "events.yaml")
    result = plan(scenario, "fall#prod!#3", cfg=cfg)
    assert result.jobs == []
    assert result.notices == ["fall#prod!#3: unassignment events do not deploy (see deploy.events)"]
    assert len(plan(scenario, "stale#prod#2", cfg=cfg).jobs) == 1


def test_non_gto_and_unknown_refs_give_notices(scenario: Scenario) -> None:
    result = plan(scenario, "refs/heads/main", "release-1.0", "nothere#prod#1")
    assert result.jobs == []
    assert result.notices == [
        "'refs/heads/main' is not a GTO tag: nothing to deploy",
        "'release-1.0' is not a GTO tag: nothing to deploy",
        "'nothere#prod#1' is not an annotated tag in this clone: nothing to deploy",
    ]


def test_unknown_variable_in_command_lists_known_names(scenario: Scenario) -> None:
    text = CONFIG.replace("deploy-dev {{ name }}", "deploy-dev {{ nope }}")
    cfg = config(scenario, text, "strict.yaml")
    with pytest.raises(StagetagError) as error:
        plan(scenario, "multi#dev#2", cfg=cfg)
    message = str(error.value)
    assert "\n" not in message
    assert "'nope' is undefined" in message
    for known in ("name", "version", "stage", "path", "type", "message", "short_name", "commit"):
        assert known in message.split("(known: ")[1]


def test_several_jobs_render_to_valid_ci_files(scenario: Scenario, tmp_path: Path) -> None:
    result = plan(scenario, "fall#prod!#3", "empty#prod!#2", "nlp=sentiment#prod#1", "multi#dev#2")
    assert [(j.action, j.artifact, j.stage) for j in result.jobs] == [
        ("deploy", "fall", "prod"),
        ("undeploy", "empty", "prod"),
        ("deploy", "nlp:sentiment", "prod"),
        ("deploy", "multi", "dev"),
    ]
    matrix = json.loads(render(result, "github", None))
    assert [e["action"] for e in matrix["include"]] == ["deploy", "undeploy", "deploy", "deploy"]
    assert matrix["include"][1]["version"] == ""
    assert matrix["include"][2]["runs_on"] == ["gpu"]
    assert all(e["timeout_minutes"] == 10 for e in matrix["include"])
    validate_github_matrix(matrix, tmp_path)

    text = render(result, "gitlab", None)
    pipeline = yaml.safe_load(text)
    assert list(pipeline) == [
        "stages",
        "deploy fall prod",
        "undeploy empty prod",
        "deploy nlp:sentiment prod",
        "deploy multi dev",
    ]
    assert pipeline["undeploy empty prod"]["environment"] == {
        "name": "production",
        "action": "stop",
    }
    assert pipeline["deploy nlp:sentiment prod"]["tags"] == ["gpu"]
    assert pipeline["deploy multi dev"]["timeout"] == "10 minutes"
    validate_gitlab(text, tmp_path)

    record = json.loads(render(result, "json", None))
    assert record["jobs"] == matrix["include"]
    assert record["notices"] == result.notices
