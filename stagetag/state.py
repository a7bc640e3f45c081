"""Registry state from tag events, with GTO 1.10.1's semantics to the tie.

GTO orders events with stable sorts by tagger second followed by list reversals, and which
version holds a stage on a same-second tie falls out of that exact sequence. The classes below
keep GTO's shape (artifact -> versions -> stages) and its sort-then-reverse steps so that every
answer, ties included, is the one GTO gives. They differ in cost: events are indexed by commit
and nothing is re-read from git.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from stagetag.events import Event, Kind
from stagetag.gitio import Stamp
from stagetag.versions import SemverKey, is_semver, semver_key

Sort = Literal["timestamp", "semver"]

# Python 3.11 reads a member off an Enum class in ~0.1 µs (its EnumType has a __getattr__), ten
# times a module global: the per-event paths compare kinds with these.
_COMMIT, _DEPRECATION, _REGISTRATION, _DEREGISTRATION, _ASSIGNMENT = (
    Kind.COMMIT,
    Kind.DEPRECATION,
    Kind.REGISTRATION,
    Kind.DEREGISTRATION,
    Kind.ASSIGNMENT,
)


def ordered(events: list[Event], ascending: bool = False) -> list[Event]:
    """GTO's `sorted(events, key=created_at)[::-1]`: ties come out in reverse input order."""
    if len(events) < 2:
        return events
    result = sorted(events, key=_epoch)
    return result if ascending else result[::-1]


def _epoch(event: Event) -> int:
    return event.created_at.epoch


class StageHold:
    """One stage on one version: its assignments and unassignments (GTO's `VStage`)."""

    __slots__ = (
        "_events",
        "artifact",
        "assignments",
        "commit_hexsha",
        "stage",
        "unassignments",
        "version",
    )

    def __init__(self, artifact: str, version: str, commit_hexsha: str, stage: str) -> None:
        self.artifact = artifact
        self.version = version
        self.commit_hexsha = commit_hexsha
        self.stage = stage
        self.assignments: list[Event] = []
        self.unassignments: list[Event] = []
        self._events: list[Event] | None = None

    @property
    def events(self) -> list[Event]:
        """Newest first. Computed once: the state is not changed after it is built."""
        if self._events is None:
            self._events = ordered(self.assignments + self.unassignments)
        return self._events

    @property
    def is_active(self) -> bool:
        return self.events[0].kind is _ASSIGNMENT

    @property
    def activated_at(self) -> Stamp | None:
        return self.events[0].created_at if self.is_active else None

    @property
    def authoring_event(self) -> Event:
        return next(e for e in self.events if e.kind.addition)


class Version:
    """One version of an artifact, keyed by commit; a SHA pseudo-version when unregistered."""

    __slots__ = (
        "_active_stages",
        "_direct",
        "_events",
        "_indirect",
        "artifact",
        "commit_events",
        "commit_hexsha",
        "deregistrations",
        "registrations",
        "stages",
        "version",
    )

    def __init__(self, artifact: str, version: str, commit_hexsha: str) -> None:
        self.artifact = artifact
        self.version = version
        self.commit_hexsha = commit_hexsha
        self.registrations: list[Event] = []
        self.deregistrations: list[Event] = []
        self.commit_events: list[Event] = []
        self.stages: dict[str, StageHold] = {}
        self._direct: list[Event] | None = None
        self._indirect: list[Event] | None = None
        self._events: list[Event] | None = None
        self._active_stages: list[StageHold] | None = None

    def add(self, event: Event) -> None:
        if event.kind is _REGISTRATION:
            self.registrations.append(event)
        elif event.kind is _DEREGISTRATION:
            self.deregistrations.append(event)
        elif event.kind is _COMMIT:
            self.commit_events.append(event)
            self.commit_events.sort(key=_epoch)
        else:
            assert event.stage is not None
            hold = self.stages.get(event.stage)
            if hold is None:
                hold = StageHold(self.artifact, self.version, self.commit_hexsha, event.stage)
                self.stages[event.stage] = hold
            target = hold.assignments if event.kind is _ASSIGNMENT else hold.unassignments
            target.append(event)

    @property
    def discovered(self) -> bool:
        """No registration or deregistration: known only from stage tags or annotations."""
        return not self.registrations and not self.deregistrations

    @property
    def is_registered(self) -> bool:
        return bool(self.registrations)

    @property
    def has_tag_events(self) -> bool:
        return bool(self.registrations or self.deregistrations or self.stages)

    @property
    def has_events(self) -> bool:
        return self.has_tag_events or bool(self.commit_events)

    @property
    def direct_events(self) -> list[Event]:
        if self._direct is None:
            self._direct = ordered(self.registrations + self.deregistrations)
        return self._direct

    @property
    def indirect_events(self) -> list[Event]:
        if self._indirect is None:
            stage_events = [e for s in self.stages.values() for e in s.events]
            self._indirect = ordered(self.commit_events + stage_events)
        return self._indirect

    @property
    def events(self) -> list[Event]:
        if self._events is None:
            stage_events = [e for s in self.stages.values() for e in s.events]
            self._events = ordered(
                self.registrations + self.deregistrations + self.commit_events + stage_events
            )
        return self._events

    @property
    def is_active(self) -> bool:
        if self.direct_events:
            return self.direct_events[0].kind is _REGISTRATION
        return bool(self.indirect_events)

    @property
    def activated_at(self) -> Stamp:
        if self.registrations:
            return self.registrations[0].created_at
        return self.events[-1].created_at

    @property
    def authoring_event(self) -> Event:
        for event in self.direct_events:
            if event.kind.addition:
                return event
        return self.indirect_events[0]

    def active_stages(self, ascending: bool = False) -> list[StageHold]:
        if self._active_stages is None:
            holds = [s for s in self.stages.values() if s.is_active]
            self._active_stages = sorted(holds, key=_activation)
        return self._active_stages if ascending else self._active_stages[::-1]


def _activation(hold: StageHold) -> int:
    stamp = hold.activated_at
    assert stamp is not None
    return stamp.epoch


def sort_versions(versions: Sequence[Version], sort: Sort = "semver") -> list[Version]:
    """Newest first: by SemVer (SHA pseudo-versions after, by name), or by creation time."""
    if sort == "timestamp":
        return sorted(versions, key=lambda v: v.authoring_event.created_at.epoch)[::-1]
    semvers = sorted((v for v in versions if is_semver(v.version)), key=_semver_of)[::-1]
    others = sorted((v for v in versions if not is_semver(v.version)), key=_name_of)[::-1]
    return semvers + others


def _semver_of(version: Version) -> SemverKey:
    return semver_key(version.version)


def _name_of(version: Version) -> str:
    return version.version


class ManyVersionsError(Exception):
    """Two registered versions share the commit a stage tag points at: GTO cannot tell which."""


class Artifact:
    def __init__(self, name: str) -> None:
        self.name = name
        self.versions: list[Version] = []
        self.deprecations: list[Event] = []
        self._by_commit: dict[str, list[Version]] = {}
        self._events: list[Event] | None = None
        self._holders: dict[tuple[bool, int, int, Sort], dict[str, list[StageHold]]] = {}
        self._seen: dict[str | None, list[Event]] = {}

    def first_time(self, event: Event) -> bool:
        """Whether this event is new to the artifact (GTO skips one equal to an event it
        has, as pydantic compares them: every field). Equal events have equal tags, so only
        events of one tag are compared, and no event is hashed whole (its message and all)."""
        same = self._seen.get(event.tag)
        if same is None:
            self._seen[event.tag] = [event]
            return True
        if event in same:
            return False
        same.append(event)
        return True

    def find_version(
        self, commit_hexsha: str, name: str | None = None, create: bool = True
    ) -> Version | None:
        """GTO's `find_version`: registered (non-discovered) versions only, else a new one."""
        found = None
        for version in self._by_commit.get(commit_hexsha, ()):
            if (version.registrations or version.deregistrations) and (
                name is None or version.version == name
            ):
                if found is not None:
                    raise ManyVersionsError(f"{found.version}, {version.version}")
                found = version
        if found is not None:
            return found
        if not create:
            return None
        return self.new_version(name or commit_hexsha, commit_hexsha)

    def new_version(self, name: str, commit_hexsha: str) -> Version:
        version = Version(self.name, name, commit_hexsha)
        self.versions.append(version)
        self._by_commit.setdefault(commit_hexsha, []).append(version)
        return version

    def add(self, event: Event) -> None:
        """File an event where GTO files it (GTO's `Artifact.add_event`)."""
        if event.kind is _DEPRECATION:
            self.deprecations.append(event)
            return
        version = self.find_version(event.commit_hexsha, name=event.version)
        assert version is not None
        version.add(event)

    @property
    def events(self) -> list[Event]:
        """Every event of the artifact and its versions, newest first."""
        if self._events is None:
            version_events = [e for v in self.versions for e in v.events]
            self._events = ordered(self.deprecations + version_events)
        return self._events

    @property
    def is_active(self) -> bool:
        if not self.deprecations:  # the same answer, without sorting every event
            return any(v.has_events for v in self.versions)
        return bool(self.events) and self.events[0].kind is not _DEPRECATION

    @property
    def is_registered(self) -> bool:
        """Known from tags, not only from an annotations file."""
        return bool(self.deprecations) or any(v.has_tag_events for v in self.versions)

    def get_versions(
        self,
        active_only: bool = True,
        include_non_explicit: bool = False,
        include_discovered: bool = False,
        sort: Sort = "semver",
    ) -> list[Version]:
        versions = [
            v
            for v in self.versions
            if not active_only
            or (
                v.is_active
                and (
                    (v.is_registered and not v.discovered)
                    or (include_discovered and v.discovered)
                    or (include_non_explicit and not v.is_registered)
                )
            )
        ]
        return sort_versions(versions, sort)

    def holder(self, stage: str) -> Version | None:
        """The version that holds `stage`, as `show NAME#STAGE` reports it (last one wins)."""
        holders = self.stage_holders(sort="timestamp").get(stage)
        if not holders:
            return None
        return next((v for v in self.versions if v.version == holders[0].version), None)

    def held_stages(self) -> set[str]:
        """The stages some version holds now: the keys of `stage_holders()` as `show` ranks
        them (cached, so that `show` ranks each artifact once for its columns and its row)."""
        return set(self.stage_holders(sort="timestamp"))

    def latest_version(self, registered_only: bool = False) -> Version | None:
        versions = self.get_versions(include_non_explicit=not registered_only)
        return versions[0] if versions else None

    def stage_holders(
        self,
        registered_only: bool = False,
        assignments_per_version: int = -1,
        versions_per_stage: int = 1,
        sort: Sort = "semver",
    ) -> dict[str, list[StageHold]]:
        """Which versions hold each stage: the last assignment wins (GTO's `get_vstages`)."""
        key = (registered_only, assignments_per_version, versions_per_stage, sort)
        if key not in self._holders:
            self._holders[key] = self._stage_holders(*key)
        return self._holders[key]

    def _stage_holders(
        self,
        registered_only: bool,
        assignments_per_version: int,
        versions_per_stage: int,
        sort: Sort,
    ) -> dict[str, list[StageHold]]:
        versions = self.get_versions(include_non_explicit=not registered_only, sort=sort)
        holds = []
        for version in versions:
            active = version.active_stages(ascending=True)
            holds.extend(
                active[:assignments_per_version] if assignments_per_version > -1 else active
            )
        if sort == "timestamp":
            holds = sorted(holds, key=lambda h: h.authoring_event.created_at.epoch)[::-1]
        stages: dict[str, list[StageHold]] = {}
        for hold in holds:
            holders = stages.setdefault(hold.stage, [])
            if versions_per_stage > -1 and len(holders) >= versions_per_stage:
                continue
            if hold.version not in [h.version for h in holders]:
                holders.append(hold)
        return stages


class RegistryState:
    def __init__(self) -> None:
        self.artifacts: dict[str, Artifact] = {}
        self.problems: list[str] = []

    def artifact(self, name: str) -> Artifact:
        found = self.artifacts.get(name)
        if found is None:
            found = self.artifacts[name] = Artifact(name)
        return found

    def used_stages(self) -> list[str]:
        """Stages currently held by an active version of any artifact, sorted."""
        return sorted({s for a in self.artifacts.values() for s in a.held_stages()})
