"""A dispatch plan as each CI system takes it: a GitHub matrix, a GitLab child pipeline, a
shell script, or the plan as JSON. Each is data first, then a (user-overridable) template."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from stagetag.dispatcher.plan import DispatchPlan, Job
from stagetag.dispatcher.render import Raw, render_document

FORMATS = ("github", "gitlab", "script", "json")
_TEMPLATES = {
    "github": "github-matrix.json.j2",
    "gitlab": "gitlab-pipeline.yml.j2",
    "script": "script.sh.j2",
    "json": "plan.json.j2",
}


def safe_name(text: str) -> str:
    """An environment or concurrency group name both CI systems accept (GitLab allows only
    letters, digits, spaces and `-_./`), with nothing a CI could expand."""
    return re.sub(r"[^A-Za-z0-9 _./-]+", "-", text).strip(" -") or "deploy"


def job_variables(job: Job) -> dict[str, str]:
    """What a job knows, as environment variables (`STAGETAG_VERSION`, ...)."""
    keys = (
        "name",
        "version",
        "stage",
        "tag",
        "commit",
        "event",
        "action",
        "path",
        "type",
    )
    variables = {f"STAGETAG_{k.upper()}": str(job.context.get(k) or "") for k in keys}
    # The environment the CI system runs the job in, as matrix_entry and the pipeline name it.
    return {**variables, "STAGETAG_ENVIRONMENT": safe_name(job.environment)}


def matrix_entry(job: Job) -> dict[str, Any]:
    return {
        "name": job.artifact,
        "version": job.version or "",
        "stage": job.stage or "",
        "environment": safe_name(job.environment),
        "action": job.action,
        "command": job.command,
        "runs_on": list(job.runs_on) or ["ubuntu-latest"],
        "concurrency": safe_name(job.concurrency),
        "timeout_minutes": max(1, math.ceil(job.timeout / 60)),
        "tag": job.context["tag"],
        "event": job.context["event"] or "",
        "commit": job.context["commit"] or "",
        "path": job.context["path"] or "",
        "type": job.context["type"] or "",
    }


def gitlab_pipeline(plan: DispatchPlan) -> dict[str, Any]:
    pipeline: dict[str, Any] = {"stages": ["deploy"]}
    for job in plan.jobs:
        entry: dict[str, Any] = {
            "stage": "deploy",
            "environment": {
                "name": safe_name(job.environment),
                "action": "start" if job.action == "deploy" else "stop",
            },
            "resource_group": safe_name(job.concurrency),
            "timeout": f"{max(1, math.ceil(job.timeout / 60))} minutes",
            # GitLab expands $VAR in variables; these values are data, so turn that off.
            "variables": {
                key: {"value": value, "expand": False} for key, value in job_variables(job).items()
            },
            "script": [job.command],
        }
        if job.runs_on:
            entry["tags"] = list(job.runs_on)
        pipeline[f"{job.action} {job.artifact} {job.stage or 'registration'}"] = entry
    if not plan.jobs:
        pipeline["nothing to deploy"] = {
            "stage": "deploy",
            "script": ["echo 'stagetag: nothing to deploy'"],
        }
    return pipeline


def plan_record(plan: DispatchPlan) -> dict[str, Any]:
    return {"jobs": [matrix_entry(job) for job in plan.jobs], "notices": plan.notices}


def render(plan: DispatchPlan, output: str, templates: Path | None) -> str:
    # A command is shell text: a shell template writes it as is, a JSON or YAML template
    # must serialize it like any other value.
    command = Raw if output == "script" else str
    data: dict[str, Any] = {
        "plan": plan_record(plan),
        "matrix": {"include": [matrix_entry(job) for job in plan.jobs]},
        "pipeline": gitlab_pipeline(plan),
        "jobs": [
            {**matrix_entry(job), "title": job.title, "command": command(job.command)}
            for job in plan.jobs
        ],
    }
    return render_document(_TEMPLATES[output], data, templates)
