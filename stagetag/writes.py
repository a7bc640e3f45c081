"""Plan the tags a write command creates, with GTO's names, counters, messages and checks.

Planning is pure: it reads a Registry and returns the tags to create, or why nothing needs
to be created. `publish.py` writes and pushes them.
"""

from __future__ import annotations

from typing import NamedTuple

from stagetag.errors import Option, StagetagError
from stagetag.events import Event, Kind
from stagetag.gitio import TagRecord
from stagetag.grammar import (
    Action,
    check_artifact,
    check_name,
    check_version,
    format_tag,
    parse_tag,
)
from stagetag.registry import Registry
from stagetag.state import Artifact, ManyVersionsError, Version, ordered
from stagetag.versions import FIRST_VERSION, bump


class NewTag(NamedTuple):
    """One annotated tag to create."""

    name: str
    target: str  # commit SHA
    message: str
    event: Kind
    artifact: str
    version: str
    stage: str | None = None


class DeletedTag(NamedTuple):
    """One existing tag to delete (GTO's `--delete`), with the event it made."""

    name: str
    target: str  # commit SHA
    event: Kind
    artifact: str
    version: str
    stage: str | None = None


class Plan(NamedTuple):
    """The tags to create, in push order, or (`--delete`) the tags to delete, in GTO's order;
    neither, with `noop` saying why nothing is needed."""

    tags: tuple[NewTag, ...]
    noop: str | None = None
    deletes: tuple[DeletedTag, ...] = ()


def next_counter(tags: list[TagRecord], artifact: str) -> int:
    """GTO's counter: one more than the highest `#N` of any local tag of the artifact.

    Lightweight and hand-made tags count too, exactly as in GTO.
    """
    counters = [
        parsed.counter
        for tag in tags
        if (parsed := parse_tag(tag.name)) and parsed.artifact == artifact and parsed.counter
    ]
    return max(counters, default=0) + 1


class _Namer:
    """Hands out tag names; counters increase across the tags of one plan."""

    def __init__(self, registry: Registry, artifact: str) -> None:
        self.existing = {t.name for t in registry.tags}
        self.artifact = artifact
        self.counter = next_counter(registry.tags, artifact)

    def name(
        self, action: Action, simple: bool, version: str | None = None, stage: str | None = None
    ) -> str:
        counter = None if simple else self.counter
        tag = format_tag(action, self.artifact, version=version, stage=stage, counter=counter)
        if tag in self.existing:
            raise StagetagError(
                f"tag {tag!r} already exists; use {{simple}} to write a numbered tag",
                simple=Option("simple", "false"),
            )
        if not simple:
            self.counter += 1
        self.existing.add(tag)
        return tag


def _artifact(registry: Registry, name: str, must_exist: bool = False) -> Artifact:
    check_artifact(name)
    found = registry.state.artifacts.get(name)
    if found is not None:
        return found
    if must_exist:
        raise StagetagError(f"cannot find artifact {name!r}; `stagetag show` lists them all")
    return Artifact(name)


def _at_commit(artifact: Artifact, commit: str) -> Version | None:
    try:
        return artifact.find_version(commit, create=False)
    except ManyVersionsError as e:
        raise StagetagError(
            f"versions {e} of {artifact.name!r} share commit {commit[:7]}; "
            "deregister all but one of them first"
        ) from None


def _named(artifact: Artifact, version: str) -> Version | None:
    found = [v for v in artifact.versions if v.version == version and not v.discovered]
    return found[-1] if found else None


def check_stage(registry: Registry, stage: str) -> str:
    check_name(stage, "stage")
    allowed = registry.config.stages
    if allowed is not None and stage not in allowed:
        listed = ", ".join(allowed) or "none"
        raise StagetagError(
            f"stage {stage!r} is not allowed by {registry.root / '.gto'} (allowed: {listed})"
        )
    return stage


def plan_register(
    registry: Registry,
    name: str,
    commit: str,
    version: str | None = None,
    bump_part: str | None = None,
    message: str | None = None,
    simple: bool = True,
    force: bool = False,
) -> Plan:
    """Register a version at a commit: the named one, or the latest bumped (GTO's rules)."""
    artifact = _artifact(registry, name)
    if version is not None and bump_part is not None:
        raise StagetagError(
            "give either {version} or {bump}, not both",
            version=Option("version"),
            bump=Option("bump"),
        )
    found = _at_commit(artifact, commit)
    if found is not None:
        if found.is_registered and found.is_active and not force:
            if version in (None, found.version):
                return Plan((), f"{name} is already registered at {commit[:7]} as {found.version}")
            raise StagetagError(
                f"{name!r} is already registered at {commit[:7]} as {found.version!r}; "
                f"one commit holds one version"
            )
        if version is not None and version != found.version:
            raise StagetagError(f"commit {commit[:7]} can only be registered as {found.version}")
        version = found.version
    if version is not None:
        check_version(version)
        other = _named(artifact, version)
        if other is not None and other is not found:
            raise StagetagError(
                f"version {version!r} of {name!r} is already registered at "
                f"{other.commit_hexsha[:7]}; pick another version"
            )
    else:
        latest = artifact.latest_version(registered_only=True)
        if latest is None and bump_part is not None:
            raise StagetagError(
                f"{name!r} has no version to bump yet; give {{version}}", version=Option("version")
            )
        version = bump(latest.version, bump_part or "patch") if latest else FIRST_VERSION
    namer = _Namer(registry, name)
    tag = NewTag(
        namer.name(Action.REGISTER, simple, version=version),
        commit,
        message or f"Registering artifact {name} version {version}",
        Kind.REGISTRATION,
        name,
        version,
    )
    return Plan((tag,))


def plan_assign(
    registry: Registry,
    name: str,
    stage: str,
    commit: str | None = None,
    version: str | None = None,
    new_version: str | None = None,
    message: str | None = None,
    simple: bool = False,
    force: bool = False,
    skip_registration: bool = False,
) -> Plan:
    """Assign a stage to a version: an existing one (`version`) or the one at `commit`,
    registering that commit first when it has no version (two tags, registration first)."""
    artifact = _artifact(registry, name)
    check_stage(registry, stage)
    if new_version is not None:
        check_version(new_version)
        if skip_registration:
            raise StagetagError(
                "{version} names a version to register; drop {sr} or {version}",
                version=Option("version"),
                sr=Option("skip_registration"),
            )
    tags: list[NewTag] = []
    namer = _Namer(registry, name)
    if version is not None:
        check_version(version)
        target = _named(artifact, version)
        if target is None:
            raise StagetagError(f"version {version!r} of {name!r} is not registered")
        _at_commit(artifact, target.commit_hexsha)  # a stage tag there would count for no one
        commit, label = target.commit_hexsha, target.version
    else:
        assert commit is not None
        target = _at_commit(artifact, commit)
        if target is not None and new_version not in (None, target.version):
            raise StagetagError(
                f"commit {commit[:7]} is already registered as {target.version!r}; "
                f"cannot register {new_version!r} there"
            )
        if target is None and not skip_registration:
            registration = plan_register(registry, name, commit, version=new_version)
            tags.extend(registration.tags)
            namer.existing.update(t.name for t in registration.tags)
            label = registration.tags[0].version
        else:
            label = target.version if target is not None else commit
    current = artifact.holder(stage)
    if current is not None and current.version == label and not force:
        return Plan((), f"{name} {label} already holds stage {stage}")
    tags.append(_assign_tag(namer, commit, label, stage, simple, message))
    return Plan(tuple(tags))


def _assign_tag(
    namer: _Namer, commit: str, version: str, stage: str, simple: bool, message: str | None
) -> NewTag:
    name = namer.artifact
    return NewTag(
        namer.name(Action.ASSIGN, simple, stage=stage),
        commit,
        message or f"Assigning stage {stage} to artifact {name} version {version}",
        Kind.ASSIGNMENT,
        name,
        version,
        stage,
    )


def _holding_version(artifact: Artifact, version: str) -> Version:
    """A registered version by name, or a SHA pseudo-version that holds stages."""
    found = _named(artifact, version) or next(
        (v for v in artifact.versions if v.version == version and v.stages), None
    )
    if found is None:
        raise StagetagError(f"version {version!r} of {artifact.name!r} is not registered")
    _at_commit(artifact, found.commit_hexsha)  # a stage tag there would count for no one
    return found


def _unassign_tag(
    namer: _Namer, found: Version, stage: str, simple: bool, message: str | None
) -> NewTag:
    name, version = found.artifact, found.version
    return NewTag(
        namer.name(Action.UNASSIGN, simple, stage=stage),
        found.commit_hexsha,
        message or f"Unassigning stage '{stage}' to artifact '{name}' version '{version}'",
        Kind.UNASSIGNMENT,
        name,
        version,
        stage,
    )


def plan_unassign(
    registry: Registry,
    name: str,
    version: str,
    stage: str,
    message: str | None = None,
    simple: bool = False,
    force: bool = False,
) -> Plan:
    """Take a stage from a version; GTO then gives the stage back to the previous holder."""
    artifact = _artifact(registry, name, must_exist=True)
    check_stage(registry, stage)
    found = _holding_version(artifact, version)
    hold = found.stages.get(stage)
    if hold is None and not force:
        raise StagetagError(f"stage {stage!r} was never assigned to {name} {version}")
    if hold is not None and not hold.is_active and not force:
        return Plan((), f"{name} {version} is not in stage {stage}")
    return Plan((_unassign_tag(_Namer(registry, name), found, stage, simple, message),))


def plan_deregister(
    registry: Registry,
    name: str,
    version: str,
    message: str | None = None,
    simple: bool = True,
    force: bool = False,
) -> Plan:
    artifact = _artifact(registry, name, must_exist=True)
    check_version(version)
    found = _named(artifact, version)
    if found is None or not found.is_registered:
        raise StagetagError(f"version {version!r} of {name!r} is not registered")
    if not found.is_active and not force:
        return Plan((), f"{name} {version} is already deregistered")
    tag = NewTag(
        _Namer(registry, name).name(Action.DEREGISTER, simple, version=version),
        found.commit_hexsha,
        message or f"Deregistering artifact {name} version {version}",
        Kind.DEREGISTRATION,
        name,
        version,
    )
    return Plan((tag,))


def plan_deprecate(
    registry: Registry,
    name: str,
    head: str,
    message: str | None = None,
    simple: bool | None = None,
    force: bool = False,
    at: str | None = None,
) -> Plan:
    """Retire an artifact; the tag goes on commit `at` (GTO's `--ref`), else on the commit of
    its newest event, as GTO does."""
    if force and simple:
        raise StagetagError(
            "{force} writes a numbered tag; drop {simple}",
            force=Option("force"),
            simple=Option("simple", "true"),
        )
    artifact = _artifact(registry, name, must_exist=not force)
    if not artifact.is_active and artifact.events and not force:
        return Plan((), f"{name} is already deprecated")
    target = at or (artifact.events[0].commit_hexsha if artifact.events else head)
    tag = NewTag(
        _Namer(registry, name).name(Action.DEPRECATE, not force if simple is None else simple),
        target,
        message or f"Deprecating artifact '{name}'",
        Kind.DEPRECATION,
        name,
        "",
    )
    return Plan((tag,))


def plan_rollback(
    registry: Registry,
    name: str,
    stage: str,
    to_version: str | None = None,
    message: str | None = None,
) -> Plan:
    """Give a stage back in one step: unassign the current holder, so that the previous
    holder (or `to_version`, assigned explicitly) holds it."""
    artifact = _artifact(registry, name, must_exist=True)
    check_stage(registry, stage)
    holders = artifact.stage_holders(versions_per_stage=-1, sort="timestamp").get(stage, [])
    if not holders:
        raise StagetagError(f"nobody holds stage {stage!r} of {name!r}; nothing to roll back")
    current = holders[0].version
    fallback = holders[1].version if len(holders) > 1 else None
    if to_version is None:
        if fallback is None:
            raise StagetagError(
                f"{name} {current} is the only version ever in {stage!r}; "
                "give {to} or unassign it",
                to=Option("to"),
            )
        to_version = fallback
    if to_version == current:
        return Plan((), f"{name} {current} already holds stage {stage}")
    namer = _Namer(registry, name)
    tags = [_unassign_tag(namer, _holding_version(artifact, current), stage, False, message)]
    if to_version != fallback:
        target = _holding_version(artifact, to_version)
        tags.append(_assign_tag(namer, target.commit_hexsha, to_version, stage, False, message))
    return Plan(tuple(tags))


# --------------------------------------------------------------------------------------------
# --delete: GTO deletes the tags that made the events instead of writing a new one


def _deletion(events: list[Event], why_none: str) -> Plan:
    """The tags of `events` oldest first (GTO's `get_events(ascending=True)`), each once."""
    found: dict[str, DeletedTag] = {}
    for e in ordered(events, ascending=True):
        if e.tag is not None and e.tag not in found:
            found[e.tag] = DeletedTag(
                e.tag, e.commit_hexsha, e.kind, e.artifact, e.version or "", e.stage
            )
    if not found:
        return Plan((), why_none)
    return Plan((), deletes=tuple(found.values()))


def _version_events(version: Version) -> list[Event]:
    """A version's events in GTO's input order (before its stable sort)."""
    stage_events = [e for hold in version.stages.values() for e in hold.events]
    return version.registrations + version.deregistrations + stage_events


def plan_delete_stage(
    registry: Registry, name: str, version: str, stage: str, force: bool = False
) -> Plan:
    """`unassign --delete`: every assignment and unassignment tag of STAGE on VERSION."""
    artifact = _artifact(registry, name, must_exist=True)
    check_stage(registry, stage)
    found = _holding_version(artifact, version)
    if stage not in found.stages and not force:
        raise StagetagError(f"stage {stage!r} was never assigned to {name} {version}")
    events = [e for e in _version_events(found) if e.stage == stage]
    return _deletion(events, f"{name} {version} has no tags for stage {stage}")


def plan_delete_version(registry: Registry, name: str, version: str) -> Plan:
    """`deregister --delete`: every tag of VERSION: its registrations, deregistrations and
    stage tags."""
    artifact = _artifact(registry, name, must_exist=True)
    check_version(version)
    found = _named(artifact, version)
    if found is None or not found.is_registered:
        raise StagetagError(f"version {version!r} of {name!r} is not registered")
    return _deletion(_version_events(found), f"{name} {version} has no tags")


def plan_delete_artifact(
    registry: Registry, name: str, simple: bool | None = None, force: bool = False
) -> Plan:
    """`deprecate --delete`: every tag of the artifact, deprecations included."""
    if force and simple:
        raise StagetagError(
            "{force} writes a numbered tag; drop {simple}",
            force=Option("force"),
            simple=Option("simple", "true"),
        )
    artifact = _artifact(registry, name, must_exist=True)
    events = artifact.deprecations + [e for v in artifact.versions for e in v.events]
    return _deletion(events, f"{name} has no tags")
