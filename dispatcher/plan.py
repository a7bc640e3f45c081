"""Decide what to deploy where for a set of pushed tags, against the registry as it is now.

- an assignment deploys only if that version still holds the stage (a late, older tag is
  skipped with a notice);
- after an unassignment or a deregistration the stage's holder is recomputed (GTO falls back
  to the previous holder): that version is deployed, or the stage's undeploy command runs
  when nobody holds it any more;
- a deprecation undeploys every stage of the artifact, when `deprecation` is in `events`;
- several tags touching the same artifact and stage give one job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from stagetag.annotations import Annotation, annotations_at
from stagetag.dispatcher.config import DeployConfig
from stagetag.dispatcher.context import event_context, version_context
from stagetag.dispatcher.render import render_command, render_text
from stagetag.events import Event, Kind
from stagetag.grammar import parse_tag
from stagetag.registry import Registry
from stagetag.state import Artifact, Version
from stagetag.views import check_ref_events


@dataclass(frozen=True)
class Job:
    action: Literal["deploy", "undeploy"]
    artifact: str
    stage: str | None  # None: the job for a registration
    version: str | None
    environment: str
    command: str
    runs_on: tuple[str, ...]
    concurrency: str
    timeout: int
    context: dict[str, Any] = field(compare=False)

    @property
    def title(self) -> str:
        what = f"{self.artifact} {self.version}" if self.version else self.artifact
        where = f"to {self.stage}" if self.stage else "on registration"
        return f"{self.action} {what} {where} ({self.environment})"


@dataclass
class DispatchPlan:
    jobs: list[Job] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def plan_dispatch(registry: Registry, config: DeployConfig, refs: list[str]) -> DispatchPlan:
    plan = DispatchPlan()
    wanted: dict[tuple[str, str | None], tuple[Event, Version | None]] = {}
    for ref in refs:
        if parse_tag(ref) is None:
            plan.notices.append(f"{ref!r} is not a GTO tag: nothing to deploy")
            continue
        events = check_ref_events(registry, ref)
        if not events:
            plan.notices.append(f"{ref!r} is not an annotated tag in this clone: nothing to deploy")
            continue
        for event in events:
            for stage, version in _decide(registry, config, event, plan.notices):
                wanted.setdefault((event.artifact, stage), (event, version))
    commits = {
        key: version.commit_hexsha if version else event.commit_hexsha
        for key, (event, version) in wanted.items()
    }
    notes = annotations_at(
        registry.root,
        [(name, commit) for (name, _), commit in commits.items()],
        registry.config.index,
    )  # every job's dvc.yaml / artifacts.yaml in one batch
    for (name, stage), (event, version) in wanted.items():
        job = _job(
            config, name, stage, event, version, notes[(name, commits[(name, stage)])], plan.notices
        )
        if job is not None:
            plan.jobs.append(job)
    return plan


def _decide(
    registry: Registry, config: DeployConfig, event: Event, notices: list[str]
) -> list[tuple[str | None, Version | None]]:
    """The stages an event changes, each with the version that should run there now
    (stage None: the registration job)."""
    label = event.kind.label
    if label not in config.events:
        notices.append(f"{event.tag}: {label} events do not deploy (see deploy.events)")
        return []
    artifact = registry.state.artifacts[event.artifact]
    if event.kind is Kind.REGISTRATION:
        registered = next((v for v in artifact.get_versions() if v.version == event.version), None)
        if registered is None:
            notices.append(f"{event.tag}: skipped, {event.version} is no longer registered")
            return []
        return [(None, registered)]
    if event.kind is Kind.ASSIGNMENT:
        assert event.stage is not None
        holder = artifact.holder(event.stage)
        if holder is None or holder.version != event.version:
            now = holder.version if holder else "nobody"
            notices.append(
                f"{event.tag}: skipped, {event.stage} is held by {now} now (the tag is stale)"
            )
            return []
        return [(event.stage, holder)]
    if event.kind is Kind.UNASSIGNMENT:
        assert event.stage is not None
        return [(event.stage, artifact.holder(event.stage))]
    if event.kind is Kind.DEREGISTRATION:
        return after_deregistration(artifact, event)
    if event.kind is Kind.DEPRECATION:
        return [(stage, None) for stage in sorted(artifact.held_stages())]
    return []


def after_deregistration(
    artifact: Artifact, event: Event
) -> list[tuple[str | None, Version | None]]:
    """Stages the deregistered version held until now, with their new holders."""
    gone = next(
        (v for v in artifact.versions if v.version == event.version and v.deregistrations), None
    )
    if gone is None:
        return []
    changed: list[tuple[str | None, Version | None]] = []
    for stage in gone.active_stages():
        holder = artifact.holder(stage.stage)
        held_since = holder.stages[stage.stage].activated_at if holder else None
        if (
            held_since is None
            or stage.activated_at is None
            or (stage.activated_at.epoch >= held_since.epoch)
        ):
            changed.append((stage.stage, holder))
    return changed


def _job(
    config: DeployConfig,
    name: str,
    stage: str | None,
    event: Event,
    version: Version | None,
    notes: Annotation,
    notices: list[str],
) -> Job | None:
    target = config.target(name, notes["type"], stage)
    if target is None:
        what = f"stage {stage!r} has" if stage else "registration has"
        notices.append(f"{event.tag}: {what} no deploy target in stagetag.yaml")
        return None
    action: Literal["deploy", "undeploy"] = "deploy" if version else "undeploy"
    template = target.deploy if version else target.undeploy
    if template is None:
        what = (
            f"deploy: for {stage or 'registration'}"
            if version
            else (f"undeploy: for {stage} (it is empty now)")
        )
        notices.append(f"{event.tag}: nothing to run, stagetag.yaml has no {what}")
        return None
    context = {
        **event_context(event),
        **version_context(version),
        **notes,
        "stage": stage,
        "environment": None,
        "action": action,
    }
    context["environment"] = render_text(target.environment, context)
    return Job(
        action=action,
        artifact=name,
        stage=stage,
        version=version.version if version else None,
        environment=context["environment"],
        command=render_command(template, context),
        runs_on=target.runs_on,
        concurrency=render_text(target.concurrency, context),
        timeout=target.timeout,
        context=context,
    )
