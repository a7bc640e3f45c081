"""GTO 1.10.1's machine-readable shapes for `show`, `history` and `check-ref`.

Key order, `null`s and string joins follow GTO's pydantic models field for field, so that
`json.dumps(..., indent=4)` of these values is byte-identical to GTO's output.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from stagetag.errors import StagetagError
from stagetag.events import Event, Kind, isoformat
from stagetag.grammar import Shortcut, is_hexsha, parse_tag
from stagetag.registry import Registry
from stagetag.state import Artifact, Sort, StageHold, Version

Record = dict[str, Any]


@dataclass(frozen=True)
class ShowOptions:
    """The knobs GTO's `show` takes, with its defaults."""

    registered_only: bool = False
    deprecated: bool = False
    assignments_per_version: int = -1
    versions_per_stage: int = 1
    sort: Sort = "timestamp"

    def __post_init__(self) -> None:
        if self.assignments_per_version < -1:
            raise StagetagError("--av must be -1 (all) or more")
        if self.versions_per_stage < -1:
            raise StagetagError("--vs must be -1 (all) or more")

    def holders(self, artifact: Artifact) -> dict[str, list[StageHold]]:
        return artifact.stage_holders(
            registered_only=self.registered_only,
            assignments_per_version=self.assignments_per_version,
            versions_per_stage=self.versions_per_stage,
            sort=self.sort,
        )


def shown_stages(registry: Registry) -> list[str]:
    """The stage columns: `.gto`'s stages when it lists them, else the stages in use."""
    allowed = registry.config.stages
    return list(allowed) if allowed is not None else registry.state.used_stages()


def registry_view(
    registry: Registry, options: ShowOptions, stages: list[str] | None = None
) -> dict[str, Record]:
    """`gto show --json`: latest version and stage holders of every artifact."""
    return dict(registry_entries(registry, options, stages))


def registry_entries(
    registry: Registry, options: ShowOptions, stages: list[str] | None = None
) -> Iterator[tuple[str, Record]]:
    """`registry_view`'s entries, one artifact at a time."""
    stages = shown_stages(registry) if stages is None else stages
    for name, artifact in registry.state.artifacts.items():
        if not (artifact.is_active or options.deprecated):
            continue
        latest = artifact.latest_version(registered_only=True)
        holders = options.holders(artifact)
        yield (
            name,
            {
                "version": latest.version if latest else None,
                "stage": {
                    stage: ", ".join(h.version for h in holders.get(stage, [])) or None
                    for stage in stages
                },
                "registered": artifact.is_registered,
                "active": artifact.is_active,
            },
        )


def find_artifact(registry: Registry, name: str) -> Artifact:
    artifact = registry.state.artifacts.get(name)
    if artifact is None:
        raise StagetagError(f"cannot find artifact {name!r}; `stagetag show` lists them all")
    return artifact


def artifact_view(registry: Registry, shortcut: Shortcut, options: ShowOptions) -> list[Record]:
    """`gto show NAME --json`: the versions (SemVer-newest first), filtered by the shortcut."""
    artifact = find_artifact(registry, shortcut.name)
    holders = options.holders(artifact)
    rows = []
    for version in artifact.get_versions(
        active_only=not options.deprecated,
        include_non_explicit=not options.registered_only,
        include_discovered=True,
    ):
        row = version_record(version)
        row["stages"] = [
            stage_record(hold)
            for holds in holders.values()
            for hold in holds
            if hold.version == version.version
        ]
        if artifact.is_active or options.deprecated:
            rows.append(row)
    if shortcut.latest:
        return rows[:1]
    if shortcut.version:
        return [row for row in rows if row["version"] == shortcut.version]
    if shortcut.stage:
        return [row for row in rows for s in row["stages"] if s["stage"] == shortcut.stage]
    return rows


def event_record(event: Event, with_kind: bool = True, internals: bool = True) -> Record:
    """One event as GTO dumps it; `internals` adds its priority and addition flag."""
    record: Record = {}
    if internals:
        record["priority"] = event.kind.priority
        record["addition"] = event.kind.addition
    record.update(
        artifact=event.artifact,
        created_at=isoformat(event.created_at),
        author=event.author,
        author_email=event.author_email,
        message=event.message,
        commit_hexsha=event.commit_hexsha,
    )
    if event.kind is Kind.COMMIT:
        record.update(
            version=event.version,
            enrichments=list(event.enrichments),
            committer=event.committer,
            committer_email=event.committer_email,
        )
        return record
    record["tag"] = event.tag
    if event.kind is not Kind.DEPRECATION:
        record["version"] = event.version
    if event.kind in (Kind.ASSIGNMENT, Kind.UNASSIGNMENT):
        record["stage"] = event.stage
    if with_kind:
        record["event"] = event.kind.label
    return record


def _authored(record: Record, authoring: Event) -> None:
    record.update(
        created_at=isoformat(authoring.created_at),
        author=authoring.author,
        author_email=authoring.author_email,
        message=authoring.message,
        ref=authoring.ref,
    )


def stage_record(hold: StageHold) -> Record:
    record: Record = {
        "artifact": hold.artifact,
        "commit_hexsha": hold.commit_hexsha,
        "version": hold.version,
        "stage": hold.stage,
        "assignments": [event_record(e) for e in hold.assignments],
        "unassignments": [event_record(e) for e in hold.unassignments],
        "is_active": hold.is_active,
        "activated_at": isoformat(hold.activated_at) if hold.activated_at else None,
    }
    _authored(record, hold.authoring_event)
    return record


def version_record(version: Version) -> Record:
    record: Record = {
        "artifact": version.artifact,
        "commit_hexsha": version.commit_hexsha,
        "version": version.version,
        "enrichments": [event_record(e, with_kind=False) for e in version.commit_events],
        "registrations": [event_record(e, with_kind=False) for e in version.registrations],
        "deregistrations": [event_record(e, with_kind=False) for e in version.deregistrations],
        "stages": [],
        "is_active": version.is_active,
        "activated_at": isoformat(version.activated_at),
    }
    _authored(record, version.authoring_event)
    record["discovered"] = version.discovered
    return record


def history_view(registry: Registry, name: str | None, ascending: bool) -> Iterator[Record]:
    """`gto history --json`: every tag event, newest first, same-second ties by priority;
    one record at a time (a registry's history is as long as its tags)."""
    artifacts = [a for a in registry.state.artifacts.values() if name in (None, a.name)]
    return map(history_record, history_events(artifacts, ascending))


def history_events(artifacts: Iterable[Artifact], ascending: bool = False) -> list[Event]:
    """The tag events of these artifacts in GTO's history order (a stable sort by second and
    priority, then reversed); for one artifact, the same order as in the full history."""
    events = [e for artifact in artifacts for e in artifact.events if e.kind is not Kind.COMMIT]
    events.sort(key=lambda e: (e.created_at.epoch, e.kind.priority))
    if not ascending:
        events.reverse()
    return events


def history_record(event: Event) -> Record:
    return {
        "timestamp": isoformat(event.created_at),
        "artifact": event.artifact,
        "event": event.kind.label,
        "priority": event.kind.priority,
        "version": event.version,
        "stage": event.stage,
        "commit": event.commit_hexsha,
        "author": event.author,
        "author_email": event.author_email,
        "message": event.message,
        "ref": event.ref,
    }


def ref_artifacts(refs: Iterable[str]) -> frozenset[str]:
    """The artifacts whose tags `check_ref_events` reads for these refs: those of the GTO
    tags among them (a branch, a SHA or a non-GTO tag needs none)."""
    return frozenset(
        parsed.artifact
        for ref in refs
        if (parsed := parse_tag(ref.removeprefix("refs/tags/"))) is not None
    )


def check_ref_events(registry: Registry, ref: str) -> list[Event]:
    """The events a tag created (GTO's `check_ref`): none for branches, SHAs, non-GTO tags.
    `registry` must hold the tags of `ref_artifacts([ref])` at least."""
    tag = ref.removeprefix("refs/tags/")
    parsed = parse_tag(tag)
    if parsed is None or not any(t.name == tag for t in registry.tags):
        return []
    artifact = registry.state.artifacts.get(parsed.artifact)
    if artifact is None:
        return []
    return [e for e in artifact.events if e.ref == tag]


def short(value: str) -> str:
    """SHAs shortened to 7 characters, as GTO's tables show them; anything else unchanged."""
    return value[:7] if is_hexsha(value) else value
