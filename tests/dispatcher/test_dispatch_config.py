"""The `deploy:` section of stagetag.yaml: errors name the file, the line and the key; user
templates override the built-in ones and must serialize data, never paste it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import GitRepo
from dispatch_helpers import ROOT, one_line_error, stagetag, validate_gitlab, write

from stagetag.dispatcher.config import DeployConfig, load_deploy_config
from stagetag.errors import StagetagError
from stagetag.settings import load_settings


def load(tmp_path: Path, text: str) -> DeployConfig:
    path = write(tmp_path / "stagetag.yaml", text)
    return load_deploy_config(load_settings(tmp_path, path))


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(StagetagError) as error:
        load(tmp_path, text)
    message = str(error.value)
    assert "\n" not in message
    return message.removeprefix(f"{tmp_path / 'stagetag.yaml'}")


STAGE = "deploy:\n  stages:\n    prod:\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            STAGE + "      deploy: ./x\n      deploi: ./y\n",
            ":5: deploi: unknown key (known: concurrency, deploy, environment, runs_on, "
            "timeout, undeploy)",
        ),
        (
            "deploy:\n  stagez: {}\n",
            ":2: stagez: unknown key (known: artifacts, defaults, events, registration, stages, "
            "templates)",
        ),
        (STAGE + "      deploy: ./x {{ name \n", ":4: deploy: template error: "),
        (STAGE + "      undeploy: ./x {% if %}\n", ":4: undeploy: template error: "),
        (
            STAGE + "      deploy: ./x\n      runs_on: ubuntu-latest\n",
            ":5: runs_on: expected a list of runner labels, e.g. [ubuntu-latest]",
        ),
        (
            "deploy:\n  defaults:\n    runs_on: self-hosted\n",
            ":3: runs_on: expected a list of runner labels, e.g. [ubuntu-latest]",
        ),
        ("deploy:\n  defaults:\n    runs_on: [1, 2]\n", ":3: runs_on: expected a list of runner"),
        ("deploy:\n  defaults:\n    timeout: 0\n", ":3: timeout: expected a number of seconds"),
        ("deploy:\n  defaults:\n    timeout: '30'\n", ":3: timeout: expected a number of seconds"),
        ("deploy:\n  defaults:\n    timeout: true\n", ":3: timeout: expected a number of seconds"),
        (
            "deploy:\n  defaults:\n    deploy: ./x\n",
            ":3: deploy: unknown key (known: concurrency, runs_on, timeout)",
        ),
        (STAGE + "      deploy: 3\n", ":4: deploy: expected a template string"),
        ("deploy:\n  events: [assignment, bogus]\n", ":2: events: expected a list from: "),
        ("deploy:\n  events: assignment\n", ":2: events: expected a list from: "),
        ("deploy:\n  templates: nope\n", ":2: templates: folder 'nope' does not exist"),
        ("deploy:\n  stages:\n    Prod!:\n      deploy: x\n", ":3: Prod!: not a valid stage name"),
        ("deploy:\n  stages: [prod]\n", ":2: stages: expected a mapping"),
        (
            "deploy:\n  artifacts:\n    - stages: {}\n",
            ":2: artifacts: an override needs match: or type:",
        ),
        (
            "deploy:\n  artifacts:\n    - match: x\n      stage: {}\n",
            ":4: stage: unknown key (known: match, stages, type)",
        ),
        ("deploy:\n  artifacts:\n    - match: [x]\n", ":3: match: expected text"),
        (
            "deploy:\n  artifacts:\n    - type: model\n      stages:\n        prod:\n"
            "          runs_on: gpu\n",
            ":6: runs_on: expected a list of runner labels",
        ),
        (
            "deploys:\n  stages: {}\n",
            ":1: deploys: unknown section (known: dashboard, deploy, promotion)",
        ),
        ("deploy:\n  stages:\n    prod: [x\n", ":4: not valid YAML"),
    ],
)
def test_config_errors_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    assert error_of(tmp_path, text).startswith(expected)


@pytest.mark.parametrize("path", sorted((ROOT / "examples" / "configs").glob("*.yaml")))
def test_example_configs_load(path: Path) -> None:
    config = load_deploy_config(load_settings(path.parent, path))
    assert config.stages
    assert config.target("anything", None, "prod") is not None


def test_defaults_and_events(tmp_path: Path) -> None:
    config = load(tmp_path, STAGE + "      deploy: ./x\n")
    assert config.events == {"assignment", "unassignment", "deregistration"}
    target = config.target("m", None, "prod")
    assert target is not None
    assert (target.environment, target.runs_on, target.timeout) == ("prod", (), 1800)
    assert target.concurrency == "deploy-{{ name }}-{{ stage }}"
    assert config.target("m", None, "dev") is None
    empty = load(tmp_path, "")
    assert empty.stages == {} and empty.target("m", None, "prod") is None


def test_first_matching_override_wins(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        STAGE
        + "      deploy: base\n"
        + "  artifacts:\n"
        + "    - match: 'nlp:*'\n      type: model\n      stages: {prod: {deploy: both}}\n"
        + "    - match: 'nlp:*'\n      stages: {prod: {deploy: glob}, dev: {deploy: dev}}\n"
        + "    - type: model\n      stages: {prod: {deploy: type}}\n",
    )

    def deploy(name: str, kind: str | None, stage: str = "prod") -> str | None:
        target = config.target(name, kind, stage)
        return target.deploy if target else None

    assert deploy("nlp:a", "model") == "both"
    assert deploy("nlp:a", "dataset") == "glob"
    assert deploy("nlp:a", None, "dev") == "dev"
    assert deploy("cv:a", "model") == "type"
    assert deploy("cv:a", None) == "base"
    assert deploy("nlpx", "dataset") == "base"  # the glob is on the whole name
    assert deploy("cv:a", "model", "dev") is None


# --- the command line, on a small repository -------------------------------------------------


@pytest.fixture
def tagged(repo: GitRepo) -> GitRepo:
    sha = repo.commit("c1")
    repo.tag("m@v1.0.0", sha, "2024-02-01T00:00:00+0000")
    repo.tag("m#prod#1", sha, "2024-02-02T00:00:00+0000", message="x\nevil: injected")
    return repo


def test_cli_config_error_is_one_line(tagged: GitRepo) -> None:
    write(tagged.path / "stagetag.yaml", STAGE + "      deploy: ./x\n      runs_on: gpu\n")
    result = stagetag("dispatch", "m#prod#1", cwd=tagged.path)
    one_line_error(result, "stagetag.yaml:5", "runs_on", "expected a list of runner labels")


def test_cli_unknown_variable_is_one_line_listing_known_names(tagged: GitRepo) -> None:
    write(tagged.path / "stagetag.yaml", STAGE + "      deploy: ./x {{ modle_path }}\n")
    result = stagetag("dispatch", "m#prod#1", "--format", "github", cwd=tagged.path)
    line = one_line_error(result, "'modle_path' is undefined", "known: ")
    known = line.split("known: ")[1]
    for name in ("name", "version", "stage", "path", "description", "tag", "commit"):
        assert name in known


CUSTOM_GITLAB = """\
# a project's own child pipeline: its workflow rules, then stagetag's jobs
workflow:
  rules:
    - if: $CI_PIPELINE_SOURCE == "parent_pipeline"
{{ pipeline | toyaml }}
"""


def test_user_templates_folder_overrides_gitlab_pipeline(tagged: GitRepo, tmp_path: Path) -> None:
    write(
        tagged.path / "stagetag.yaml",
        "deploy:\n  templates: ci/stagetag\n"
        "  stages:\n    prod:\n      deploy: ./d.sh {{ version }}\n",
    )
    write(tagged.path / "ci" / "stagetag" / "gitlab-pipeline.yml.j2", CUSTOM_GITLAB)
    result = stagetag("dispatch", "m#prod#1", "--format", "gitlab", cwd=tagged.path)
    assert result.returncode == 0, result.stderr
    pipeline = yaml.safe_load(result.stdout)
    assert pipeline["workflow"] == {"rules": [{"if": '$CI_PIPELINE_SOURCE == "parent_pipeline"'}]}
    assert pipeline["deploy m prod"]["script"] == ["./d.sh v1.0.0"]
    validate_gitlab(result.stdout, tmp_path)
    # the formats the folder does not override stay built in
    github = stagetag("dispatch", "m#prod#1", "--format", "github", cwd=tagged.path)
    assert json.loads(github.stdout)["include"][0]["command"] == "./d.sh v1.0.0"


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{{ name }}\n", ["gitlab-pipeline.yml.j2", "'name' is undefined"]),
        ("{% for job in jobs %}{{ job.name }}: {}\n{% endfor %}", ["'m'", "| toyaml"]),
        ("stages: [{{ pipeline.stages[0] }}]\n", ["'deploy'", "| tojson"]),
    ],
)
def test_user_template_pasting_text_is_a_clear_error(
    tagged: GitRepo, template: str, words: list[str]
) -> None:
    write(
        tagged.path / "stagetag.yaml",
        "deploy:\n  templates: tpl\n  stages:\n    prod:\n      deploy: ./d.sh\n",
    )
    write(tagged.path / "tpl" / "gitlab-pipeline.yml.j2", template)
    result = stagetag("dispatch", "m#prod#1", "--format", "gitlab", cwd=tagged.path)
    one_line_error(result, *words)


def test_user_yaml_template_cannot_paste_the_command(tagged: GitRepo) -> None:
    write(
        tagged.path / "stagetag.yaml",
        "deploy:\n  templates: tpl\n  stages:\n    prod:\n      deploy: ./d.sh {{ message }}\n",
    )
    write(
        tagged.path / "tpl" / "gitlab-pipeline.yml.j2",
        "stages: [deploy]\n{% for job in jobs %}{{ job.title | tojson }}:\n"
        "  stage: deploy\n  script:\n    - {{ job.command }}\n{% endfor %}",
    )
    result = stagetag("dispatch", "m#prod#1", "--format", "gitlab", cwd=tagged.path)
    if result.returncode == 0:  # accepted: then the data must come back intact
        pipeline = yaml.safe_load(result.stdout)
        assert "evil" not in pipeline
        [job] = [v for k, v in pipeline.items() if k != "stages"]
        assert job["script"] == ["./d.sh 'x\nevil: injected'"]
    else:
        one_line_error(result, "tojson")
