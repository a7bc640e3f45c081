"""Who held each stage of an artifact, from when to when: `history NAME --stage` and the
dashboard's stage timelines.

The holder of a stage at an instant is what `show NAME#STAGE --at INSTANT` answers: GTO's
reading of the tags made by then (stagetag.instants), and nobody while the artifact is
deprecated. It can only change at a second in which the artifact has a tag, so the timeline
is that answer after each such second.

Replaying the tags after every second costs time quadratic in the artifact's tags, too slow
for a dashboard of a large registry. When the artifact's state at every second is its final
state cut off at that second (`_cuts_cleanly`: no stage tag older than its commit's
registration, no two versions on one commit, no tag object whose name is of another kind than
its ref's), the sweep below updates, per second, the few facts `state.py` ranks stage holders
by; otherwise (hand-made histories) the tags are replayed at each second.
tests/differential/test_timeline_sweep.py checks the sweep against the replay after every
second of random registries, and test_show_at.py both against gto.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from stagetag import gitio
from stagetag.annotations import read_index
from stagetag.events import Event, Kind, isoformat
from stagetag.gitio import Stamp, TagRecord
from stagetag.grammar import Action, ParsedTag, parse_tag
from stagetag.registry import Registry, add_commit_events, replay_tags
from stagetag.state import Artifact, RegistryState, Version
from stagetag.views import short

# Module globals: Python 3.11 reads a member off an Enum class ten times slower (stagetag.state).
_DEPRECATION, _REGISTRATION, _ASSIGNMENT = Kind.DEPRECATION, Kind.REGISTRATION, Kind.ASSIGNMENT


class Holder(NamedTuple):
    version: str
    assignment: Event  # the assignment GTO credits the hold to (its newest)


class Holding(NamedTuple):
    """One version holding one stage for a while. `started_by` and `ended_by` are the tags
    that made the change: the assignment itself, or an unassignment, deregistration or
    deprecation after which GTO falls back to another holder (or to nobody)."""

    artifact: str
    stage: str
    version: str
    since: Stamp
    until: Stamp | None  # None: it still holds it
    assignment: Event
    started_by: Event
    ended_by: Event | None

    @property
    def seconds(self) -> int | None:
        return None if self.until is None else self.until.epoch - self.since.epoch


class _Second(NamedTuple):
    """The holders right after the tags of one second, and those tags' events."""

    epoch: int
    holders: dict[str, Holder]  # empty while the artifact is deprecated
    events: list[Event]


class Timelines:
    """Stage timelines of a registry's artifacts, read from the registry `load_registry`
    returned with commit events (what `show` reads)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._tags: dict[str, list[TagRecord]] | None = None
        self._odd: dict[str, list[tuple[ParsedTag, ParsedTag]]] | None = None
        self._head: tuple[str | None, frozenset[str]] | None = None

    def of(self, name: str) -> dict[str, list[Holding]]:
        """Each stage the artifact ever had, with its holdings, oldest first."""
        artifact = self.registry.state.artifacts.get(name)
        if artifact is None:
            return {}
        renamed = self._renamed().get(name, [])
        seconds = (
            self._swept(artifact)
            if _cuts_cleanly(artifact, renamed)
            else self._replayed(name, self._artifact_tags().get(name, []))
        )
        return _holdings(name, list(seconds))

    def _artifact_tags(self) -> dict[str, list[TagRecord]]:
        """Each artifact's event tags, filed by the name inside the tag object (as replay
        files them)."""
        if self._tags is None:
            self._tags = {}
            for tag in self.registry.tags:
                parsed = parse_tag(tag.tag_name) if tag.annotated else None
                if parsed is not None:
                    self._tags.setdefault(parsed.artifact, []).append(tag)
        return self._tags

    def _renamed(self) -> dict[str, list[tuple[ParsedTag, ParsedTag]]]:
        """The tags whose ref and tag object have different GTO names, by the object's
        artifact: (the ref's reading, the object's)."""
        if self._odd is None:
            self._odd = {}
            for tag in self.registry.tags:
                if tag.annotated and tag.name != tag.tag_name and tag.problem is None:
                    found, parsed = parse_tag(tag.name), parse_tag(tag.tag_name)
                    if found is not None and parsed is not None:
                        self._odd.setdefault(parsed.artifact, []).append((found, parsed))
        return self._odd

    def _head_index(self) -> tuple[str | None, frozenset[str]]:
        """HEAD and the artifacts its annotations file lists (GTO adds a version at HEAD for
        each, whose commit date counts against a deprecation)."""
        if self._head is None:
            index_file = self.registry.config.index
            objects = gitio.read_objects(self.registry.root, ["HEAD", f"HEAD:{index_file}"])
            head = objects.get("HEAD")
            blob = objects.get(f"HEAD:{index_file}")
            names = read_index(blob.data)[0] if blob is not None and blob.kind == "blob" else None
            self._head = (head.sha if head else None, frozenset(names or ()))
        return self._head

    def _swept(self, artifact: Artifact) -> Iterator[_Second]:
        head_epoch = None
        if artifact.deprecations:
            head, annotated = self._head_index()
            if artifact.name in annotated:
                head_epoch = _commit_epoch(v for v in artifact.versions if v.commit_hexsha == head)
        return _Sweep(artifact, head_epoch).seconds()

    def _replayed(self, name: str, tags: list[TagRecord]) -> Iterator[_Second]:
        """The state after each second, replayed from the tags made by then."""
        registry = self.registry
        for epoch in sorted({tag.stamp.epoch for tag in tags if tag.stamp is not None}):
            state = RegistryState()
            replay_tags(state, [t for t in tags if t.stamp is None or t.stamp.epoch <= epoch])
            add_commit_events(state, registry.root, registry.config, frozenset())
            artifact = state.artifacts.get(name)
            if artifact is None:
                continue
            holders = {}
            if artifact.is_active:
                holders = {
                    stage: Holder(holds[0].version, holds[0].authoring_event)
                    for stage, holds in artifact.stage_holders(sort="timestamp").items()
                }
            events = [
                e
                for e in artifact.events
                if e.kind is not Kind.COMMIT and e.created_at.epoch == epoch
            ]
            yield _Second(epoch, holders, events)


def _commit_epoch(versions: Iterable[Version]) -> int | None:
    epochs = [e.created_at.epoch for v in versions for e in v.commit_events]
    return max(epochs) if epochs else None


_PASS = {
    Action.DEPRECATE: 0,
    Action.REGISTER: 1,
    Action.DEREGISTER: 1,
    Action.ASSIGN: 2,
    Action.UNASSIGN: 2,
}


def _cuts_cleanly(artifact: Artifact, renamed: list[tuple[ParsedTag, ParsedTag]]) -> bool:
    """Whether the artifact's state after any second is its final state without the later
    events. GTO replays registrations before stage tags and files a stage tag under the
    version registered at its commit then; a stage tag made before that registration went to
    a SHA version at the time (or, with two versions registered there, was skipped later but
    not before), so the cut would differ. So would a tag object whose name is of another kind
    than its ref's (it replays in the ref's pass)."""
    if any(_PASS.get(found.action) != _PASS.get(parsed.action) for found, parsed in renamed):
        return False
    registered: set[str] = set()
    for version in artifact.versions:
        if version.discovered:
            continue
        if version.commit_hexsha in registered:
            return False  # two versions on one commit: its stage tags may be skipped
        registered.add(version.commit_hexsha)
        first = version.direct_events[-1].created_at.epoch  # (newest first)
        for hold in version.stages.values():
            if hold.events[-1].created_at.epoch < first:
                return False
    return True


class _VersionFacts:
    """What ranks a version's holds at the current second (state.Version's rules)."""

    __slots__ = (
        "holds",
        "index",
        "last_change",
        "last_deregistration",
        "last_registration",
        "registered",
    )

    def __init__(self, index: int, version: Version) -> None:
        self.index = index  # its place in the artifact's versions: the last tie-breaker
        self.registered = not version.discovered
        self.last_registration: int | None = None
        self.last_deregistration: int | None = None
        # A SHA version is authored by its newest event, its commit's date included.
        self.last_change = _commit_epoch([version]) if version.discovered else None
        self.holds: list[_HoldFacts] = []

    @property
    def is_active(self) -> bool:
        if not self.registered:
            return True  # it has an event, or it would hold nothing
        return self.last_registration is not None and (
            self.last_deregistration is None or self.last_registration > self.last_deregistration
        )

    @property
    def authored(self) -> int:
        value = self.last_registration if self.registered else self.last_change
        assert value is not None
        return value


class _HoldFacts:
    __slots__ = (
        "generation",
        "holder",
        "last_assignment",
        "last_unassignment",
        "stage",
        "version",
    )

    def __init__(self, version: _VersionFacts, stage: str) -> None:
        self.version = version
        self.stage = stage
        self.holder: Holder | None = None  # what it makes of the stage when it wins
        self.last_assignment: int | None = None
        self.last_unassignment: int | None = None
        self.generation = 0  # heap entries of older generations are stale

    def rank(self) -> tuple[int, int, int] | None:
        """None unless GTO counts the hold; else the lowest wins the stage. GTO sorts holds
        by their newest assignment, ties by the versions' authoring time and then their order,
        through stable sorts followed by reversals: the earlier version wins a tie."""
        if self.last_assignment is None or not self.version.is_active:
            return None
        if self.last_unassignment is not None and self.last_unassignment >= self.last_assignment:
            return None  # an unassignment in the same second wins, as in GTO
        return (-self.last_assignment, self.version.authored, self.version.index)


# A tag event of the artifact, by its second: what it changes.
_Change = tuple[int, Event, _VersionFacts | None, _HoldFacts | None, Version | None]
_epoch = itemgetter(0)


class _Sweep:
    """The artifact's final state, walked one second at a time; each stage's holds in a
    heap by rank, so that a second costs the logarithm of the holds it changes."""

    def __init__(self, artifact: Artifact, head_epoch: int | None) -> None:
        self.head_epoch = head_epoch
        self.deprecated = bool(artifact.deprecations)  # else commit dates never matter
        self.heaps: dict[str, list[tuple[int, int, int, int, _HoldFacts]]] = {}
        self.changes: list[_Change] = [
            (e.created_at.epoch, e, None, None, None) for e in artifact.deprecations
        ]
        for index, version in enumerate(artifact.versions):
            vf = _VersionFacts(index, version)
            for event in version.registrations + version.deregistrations:
                self.changes.append((event.created_at.epoch, event, vf, None, version))
            for hold in version.stages.values():
                hf = _HoldFacts(vf, hold.stage)
                vf.holds.append(hf)
                self.heaps.setdefault(hold.stage, [])
                for event in hold.assignments + hold.unassignments:
                    self.changes.append((event.created_at.epoch, event, vf, hf, version))
        # stable: within a second, a hold's assignments stay in GTO's order (the last wins)
        self.changes.sort(key=_epoch)

    def seconds(self) -> Iterator[_Second]:
        current: dict[str, Holder] = {}
        last_deprecation: int | None = None
        newest_other = self.head_epoch  # the newest event that is no deprecation
        present: set[int] = set()
        for epoch, group in groupby(self.changes, key=_epoch):
            events = []
            moved: set[_HoldFacts] = set()  # the holds whose rank may have changed
            for _, event, vf, hf, version in group:
                events.append(event)
                kind = event.kind
                if kind is _DEPRECATION:
                    last_deprecation = epoch
                    continue
                assert vf is not None and version is not None
                if newest_other is None or epoch > newest_other:
                    newest_other = epoch
                if self.deprecated and id(version) not in present:
                    present.add(id(version))
                    dated = _commit_epoch([version])
                    if dated is not None and dated > newest_other:
                        newest_other = dated
                if hf is None:
                    if kind is _REGISTRATION:
                        vf.last_registration = epoch
                    else:
                        vf.last_deregistration = epoch
                    moved.update(vf.holds)  # whether the version counts, and its authored time
                    continue
                if kind is _ASSIGNMENT:
                    hf.last_assignment = epoch
                    hf.holder = Holder(event.version or "", event)
                else:
                    hf.last_unassignment = epoch
                if vf.registered:
                    moved.add(hf)
                else:  # a SHA version is authored by its newest event
                    vf.last_change = max(epoch, vf.last_change or epoch)
                    moved.update(vf.holds)
            for hf in moved:
                self._push(hf)
            for stage in {hf.stage for hf in moved}:
                holder = self._holder(stage)
                if holder is None:
                    current.pop(stage, None)
                else:
                    current[stage] = holder
            deprecated = last_deprecation is not None and (
                newest_other is None or last_deprecation > newest_other
            )
            yield _Second(epoch, {} if deprecated else dict(current), events)

    def _push(self, hf: _HoldFacts) -> None:
        """File the hold under its new rank (its old entries go stale)."""
        hf.generation += 1
        rank = hf.rank()
        if rank is not None:
            heapq.heappush(self.heaps[hf.stage], (*rank, hf.generation, hf))

    def _holder(self, stage: str) -> Holder | None:
        heap = self.heaps[stage]
        while heap and heap[0][3] != heap[0][4].generation:
            heapq.heappop(heap)
        if not heap:
            return None
        return heap[0][4].holder


def _holdings(name: str, seconds: list[_Second]) -> dict[str, list[Holding]]:
    """Each stage a tag names, with a holding from each second its holder becomes another
    version (or nobody) to the next such second."""
    stages = sorted({s for second in seconds for e in second.events if (s := e.stage)})
    holdings: dict[str, list[Holding]] = {stage: [] for stage in stages}
    started: dict[str, tuple[Holder, Event]] = {}  # the open holdings: holder and cause
    before: dict[str, Holder] = {}
    for second in seconds:
        holders = second.holders
        if holders == before:
            continue  # no stage changed hands
        before = holders
        for stage in stages:
            holder = holders.get(stage)
            opened = started.get(stage)
            if (opened[0].version if opened else None) == (holder.version if holder else None):
                continue  # the same version holds on, or still nobody
            if opened is not None:
                ended = _cause(second.events, stage, opened[0].version)
                holdings[stage].append(_holding(name, stage, *opened, ended))
                del started[stage]
            if holder is not None:
                cause = _cause(second.events, stage, holder.version, holder.assignment)
                started[stage] = (holder, cause)
    for stage, opened in started.items():
        holdings[stage].append(_holding(name, stage, *opened, None))
    return holdings


def _holding(
    name: str, stage: str, holder: Holder, started_by: Event, ended_by: Event | None
) -> Holding:
    until = ended_by.created_at if ended_by else None
    return Holding(
        name,
        stage,
        holder.version,
        started_by.created_at,
        until,
        holder.assignment,
        started_by,
        ended_by,
    )


def _cause(events: list[Event], stage: str, version: str, wanted: Event | None = None) -> Event:
    """The tag of this second that best explains a change of the stage's holder: the
    assignment itself, else a tag of that stage (of this version first), else one that
    registers or deregisters this version, else a deprecation; ties by GTO's priority (its
    history order within a second), then by name, so that any listing gives one answer."""
    if len(events) == 1:
        return events[0]  # the usual second
    if wanted is not None and wanted in events:
        return wanted

    def weight(event: Event) -> tuple[int, int, str]:
        if event.stage == stage:
            fit = 4 if event.version == version else 3
        elif event.stage is None and event.version == version:
            fit = 2
        else:
            fit = 1 if event.kind is _DEPRECATION else 0
        return fit, event.kind.priority, event.ref

    return max(events, key=weight)


def holding_record(holding: Holding) -> dict[str, Any]:
    """One holding as `history NAME --stage STAGE --json` prints it."""
    assignment = holding.assignment
    return {
        "artifact": holding.artifact,
        "stage": holding.stage,
        "version": holding.version,
        "from": isoformat(holding.since),
        "to": isoformat(holding.until) if holding.until else None,
        "seconds": holding.seconds,
        "assigned_at": isoformat(assignment.created_at),
        "author": assignment.author,
        "author_email": assignment.author_email,
        "message": assignment.message,
        "ref": assignment.ref,
        "started_by": holding.started_by.ref,
        "ended_by": holding.ended_by.ref if holding.ended_by else None,
    }


HOLDING_COLUMNS = ("version", "from", "to", "held", "assigned by", "ref", "message")


def holding_row(record: dict[str, Any]) -> list[Any]:
    """A holding record as a table row (HOLDING_COLUMNS): the tables and the Markdown."""
    return [
        short(record["version"]),
        record["from"],
        record["to"] or "now",
        duration(record["seconds"]) or "so far",
        record["author"],
        record["ref"],
        record["message"],
    ]


def duration(seconds: int | None) -> str:
    """`3d 4h`, `2h 5m`, `45s`: the two largest units; empty for a holding still going on."""
    if seconds is None:
        return ""
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2])
