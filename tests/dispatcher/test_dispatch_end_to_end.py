"""`stagetag dispatch` as CI runs it: tags pushed with `stagetag assign --push`, then a fresh
(shallow) clone that must fetch the tags it needs, and every output format checked against the
CI system's schema or run for real."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import GitRepo, isolated_git
from deploy_recorder import add_recorder, records
from dispatch_helpers import (
    clone,
    make_origin,
    mirror,
    one_line_error,
    stagetag,
    validate_github_matrix,
    validate_gitlab,
    write,
)

CONFIG = """\
deploy:
  defaults:
    runs_on: [ubuntu-latest]
  stages:
    prod:
      environment: production
      deploy: ./rec.py {{ path }} {{ version }} {{ stage }}
      undeploy: ./rec.py undeploy {{ name }} {{ stage }}
    staging:
      deploy: ./rec.py staging {{ version }}
"""
DVC_V1 = "artifacts:\n  m:\n    path: models/m.pkl\n    type: model\n    desc: churn model\n"
DVC_V2 = "artifacts:\n  m:\n    path: models/m-next.pkl\n    type: model\n"
REF = "refs/tags/m#prod#1"


@dataclass(frozen=True)
class Pushed:
    bare: Path
    work: GitRepo
    v1: str  # the version's commit; main has moved on since


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Pushed:
    base = tmp_path_factory.mktemp("e2e")
    with isolated_git(base / "home", clear_ci=True):
        bare, work = make_origin(base)
        write(work.path / "stagetag.yaml", CONFIG)
        write(work.path / "dvc.yaml", DVC_V1)
        add_recorder(work.path / "rec.py")
        work.git("add", "-A")
        work.git("commit", "-qm", "model v1")
        work.git("push", "-q", "origin", "main")
        result = stagetag(
            "assign", "m", "HEAD", "--version", "v1.0.0", "--stage", "prod", "--push", cwd=work.path
        )
        assert result.returncode == 0, result.stderr
        v1 = work.git("rev-parse", "HEAD")
        # main moves on: a depth-1 clone has neither the version's commit nor its tags
        write(work.path / "dvc.yaml", DVC_V2)
        work.git("commit", "-qam", "model v2")
        work.git("push", "-q", "origin", "main")
    return Pushed(bare, work, v1)


def expected_entry(pushed: Pushed) -> dict[str, object]:
    return {
        "name": "m",
        "version": "v1.0.0",
        "stage": "prod",
        "environment": "production",
        "action": "deploy",
        "command": "./rec.py models/m.pkl v1.0.0 prod",
        "runs_on": ["ubuntu-latest"],
        "concurrency": "deploy-m-prod",
        "timeout_minutes": 30,
        "tag": "m#prod#1",
        "event": "assignment",
        "commit": pushed.v1,
        "path": "models/m.pkl",
        "type": "model",
    }


def test_shallow_clone_fetches_tags_and_github_matrix_validates(
    pushed: Pushed, tmp_path: Path
) -> None:
    ci = clone(pushed.bare, tmp_path / "ci", "--depth", "1")
    assert ci.git("rev-parse", "--is-shallow-repository") == "true"
    assert ci.git("tag", "-l") == ""
    result = stagetag("dispatch", REF, "--format", "github", cwd=ci.path)
    assert result.returncode == 0, result.stderr
    matrix = json.loads(result.stdout)
    # path and type come from dvc.yaml at the version's commit, not at HEAD
    assert matrix == {"include": [expected_entry(pushed)]}
    assert ci.git("cat-file", "-t", "m#prod#1") == "tag"
    validate_github_matrix(matrix, tmp_path)


def test_gitlab_child_pipeline_validates(pushed: Pushed, tmp_path: Path) -> None:
    ci = clone(pushed.bare, tmp_path / "ci", "--depth", "1")
    out = tmp_path / "child.yml"
    result = stagetag("dispatch", REF, "--format", "gitlab", "-o", str(out), cwd=ci.path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    text = out.read_text()
    assert yaml.safe_load(text) == {
        "stages": ["deploy"],
        "deploy m prod": {
            "stage": "deploy",
            "environment": {"name": "production", "action": "start"},
            "resource_group": "deploy-m-prod",
            "timeout": "30 minutes",
            "variables": {
                key: {"value": value, "expand": False}
                for key, value in job_variables(pushed).items()
            },
            "script": ["./rec.py models/m.pkl v1.0.0 prod"],
            "tags": ["ubuntu-latest"],
        },
    }
    validate_gitlab(text, tmp_path)


def job_variables(pushed: Pushed) -> dict[str, str]:
    """What the deploy job of the pushed `m#prod#1` knows, as STAGETAG_* variables."""
    return {
        "STAGETAG_NAME": "m",
        "STAGETAG_VERSION": "v1.0.0",
        "STAGETAG_STAGE": "prod",
        "STAGETAG_ENVIRONMENT": "production",
        "STAGETAG_TAG": "m#prod#1",
        "STAGETAG_COMMIT": pushed.v1,
        "STAGETAG_EVENT": "assignment",
        "STAGETAG_ACTION": "deploy",
        "STAGETAG_PATH": "models/m.pkl",
        "STAGETAG_TYPE": "model",
    }


def test_empty_plan_gitlab_pipeline_validates(pushed: Pushed, tmp_path: Path) -> None:
    ci = clone(pushed.bare, tmp_path / "ci")
    result = stagetag("dispatch", "refs/heads/main", "--format", "gitlab", cwd=ci.path)
    assert result.returncode == 0, result.stderr
    assert "nothing to deploy" in result.stderr
    validate_gitlab(result.stdout, tmp_path)


def test_lightweight_tag_from_checkout_is_refetched(pushed: Pushed, tmp_path: Path) -> None:
    # old actions/checkout fetched the triggering tag without its tag object
    ci = clone(pushed.bare, tmp_path / "ci", "--depth", "1", "--branch", "m#prod#1")
    ci.git("tag", "-f", "m#prod#1", "m#prod#1^{}")
    assert ci.git("cat-file", "-t", "m#prod#1") == "commit"

    refused = stagetag("dispatch", REF, "--no-fetch", cwd=ci.path)
    one_line_error(refused, "m#prod#1", "fetch-depth: 0", "GIT_DEPTH")

    result = stagetag("dispatch", REF, "--format", "json", cwd=ci.path)
    assert result.returncode == 0, result.stderr
    assert ci.git("cat-file", "-t", "m#prod#1") == "tag"
    plan = json.loads(result.stdout)
    assert plan == {"jobs": [expected_entry(pushed)], "notices": []}


def test_run_executes_from_the_repository_root(pushed: Pushed, tmp_path: Path) -> None:
    ci = clone(pushed.bare, tmp_path / "ci", "--depth", "1")
    sub = ci.path / "sub" / "dir"
    sub.mkdir(parents=True)
    result = stagetag("dispatch", REF, "--run", cwd=sub)
    assert result.returncode == 0, result.stderr
    assert "== deploy m v1.0.0 to prod (production)" in result.stdout
    assert "1 of 1 jobs succeeded" in result.stdout
    assert not (sub / "records.jsonl").exists()
    [record] = records(ci.path / "records.jsonl")
    assert record["argv"] == ["models/m.pkl", "v1.0.0", "prod"]
    assert Path(record["cwd"]).resolve() == ci.path.resolve()
    assert record["env"] == job_variables(pushed)


def test_script_output_runs_the_same_command(pushed: Pushed, tmp_path: Path) -> None:
    ci = clone(pushed.bare, tmp_path / "ci", "--depth", "1")
    script = tmp_path / "deploy.sh"
    result = stagetag("dispatch", REF, "--format", "script", "-o", str(script), cwd=ci.path)
    assert result.returncode == 0, result.stderr
    ran = subprocess.run(["bash", str(script)], cwd=ci.path, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert "== deploy m v1.0.0 to prod (production)" in ran.stdout
    [record] = records(ci.path / "records.jsonl")
    assert record["argv"] == ["models/m.pkl", "v1.0.0", "prod"]


def test_registration_and_assignment_of_one_push_give_one_job(
    pushed: Pushed, tmp_path: Path
) -> None:
    ci = clone(pushed.bare, tmp_path / "ci", "--depth", "1")
    result = stagetag("dispatch", "refs/tags/m@v1.0.0", REF, "m#prod#1", cwd=ci.path)
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["jobs"] == [expected_entry(pushed)]
    assert any("registration events do not deploy" in n for n in plan["notices"])


def test_push_range_since_saved_state_and_staleness(pushed: Pushed, tmp_path: Path) -> None:
    origin = mirror(pushed.bare, tmp_path / "origin.git")
    ci = clone(origin, tmp_path / "ci")
    state = tmp_path / "state.txt"
    first = stagetag("dispatch", "--save-state", str(state), cwd=ci.path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["jobs"] == []
    assert "nothing to deploy" in first.stderr
    assert sorted(state.read_text().split()) == ["m#prod#1", "m@v1.0.0"]

    # someone else pushes v2 to prod and staging (dates after stagetag's own tags)
    dev = clone(origin, tmp_path / "dev")
    head = dev.git("rev-parse", "HEAD")
    now = int(time.time())
    for offset, tag in enumerate(["m@v2.0.0", "m#prod#2", "m#staging#3"], start=60):
        dev.tag(tag, head, f"@{now + offset} +0000", message=f"{tag} by hand")
    dev.git("push", "-q", "origin", "--tags")

    ci.git("fetch", "-q", "origin", "+refs/tags/*:refs/tags/*")
    second = stagetag(
        "dispatch", "--since", str(state), "--save-state", str(state), "--run", cwd=ci.path
    )
    assert second.returncode == 0, second.stderr
    assert "registration events do not deploy" in second.stderr
    assert "2 of 2 jobs succeeded" in second.stdout
    argvs = [r["argv"] for r in records(ci.path / "records.jsonl")]
    assert argvs == [["models/m-next.pkl", "v2.0.0", "prod"], ["staging", "v2.0.0"]]
    assert sorted(state.read_text().split()) == [
        "m#prod#1",
        "m#prod#2",
        "m#staging#3",
        "m@v1.0.0",
        "m@v2.0.0",
    ]

    third = stagetag("dispatch", "--since", str(state), cwd=ci.path)
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout)["jobs"] == []

    # the old assignment, delivered late: v2 holds prod now
    stale = stagetag("dispatch", REF, "--format", "github", cwd=ci.path)
    assert stale.returncode == 0, stale.stderr
    assert json.loads(stale.stdout) == {"include": []}
    assert "skipped, prod is held by v2.0.0 now (the tag is stale)" in stale.stderr


def test_since_without_state_file_is_one_line_error(pushed: Pushed, tmp_path: Path) -> None:
    ci = clone(pushed.bare, tmp_path / "ci")
    result = stagetag("dispatch", "--since", str(tmp_path / "nope.txt"), cwd=ci.path)
    one_line_error(result, "nope.txt", "--save-state")
