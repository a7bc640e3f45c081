"""The example workflows agree with the dispatcher they are written for (fast: no runner).

deploy-job.yml hands each matrix entry to the deploy command as environment variables; the
names must be exactly the ones `stagetag dispatch --run` and the GitLab child pipeline give
(`job_variables`), each taken from a matrix field that `matrix_entry` really writes, or a
deploy script that works under one CI silently gets empty values under the other.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from stagetag.dispatcher.plan import Job
from stagetag.dispatcher.targets import job_variables, matrix_entry

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_JOB = ROOT / "examples" / "workflows" / "deploy-job.yml"
_MATRIX_FIELD = re.compile(r"^\$\{\{ matrix\.([a-z_]+) \}\}$")


def sample_job() -> Job:
    """A job as the planner makes one for `churn#prod#3`, every context field set."""
    context = {
        "name": "churn",
        "version": "v1.2.0",
        "stage": "prod",
        "environment": "production",
        "tag": "churn#prod#3",
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "event": "assignment",
        "action": "deploy",
        "path": "models/churn.pkl",
        "type": "model",
    }
    return Job(
        action="deploy",
        artifact="churn",
        stage="prod",
        version="v1.2.0",
        environment="production",
        command="./deploy.sh",
        runs_on=("ubuntu-latest",),
        concurrency="deploy-churn-prod",
        timeout=1800,
        context=context,
    )


def deploy_step_env() -> dict[str, str]:
    workflow: dict[str, Any] = yaml.safe_load(DEPLOY_JOB.read_text(encoding="utf-8"))
    [step] = [s for s in workflow["jobs"]["deploy"]["steps"] if s.get("run")]
    env: dict[str, str] = step["env"]
    return env


def matrix_fields() -> dict[str, str]:
    """STAGETAG_* variable -> the matrix field deploy-job.yml takes it from."""
    fields = {}
    for key, value in deploy_step_env().items():
        if key.startswith("STAGETAG_"):
            match = _MATRIX_FIELD.match(value)
            assert match, f"{key} must be a plain ${{{{ matrix.FIELD }}}}, not {value!r}"
            fields[key] = match.group(1)
    return fields


def test_deploy_job_passes_every_job_variable() -> None:
    assert sorted(matrix_fields()) == sorted(job_variables(sample_job()))
    assert deploy_step_env()["COMMAND"] == "${{ matrix.command }}"


def test_each_variable_comes_from_its_own_matrix_field() -> None:
    for key, field_name in matrix_fields().items():
        assert key == f"STAGETAG_{field_name.upper()}"


def test_matrix_gives_the_values_the_other_runners_give() -> None:
    job = sample_job()
    entry = matrix_entry(job)
    given = {key: str(entry.get(field_name, "")) for key, field_name in matrix_fields().items()}
    assert given == job_variables(job)
