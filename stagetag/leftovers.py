"""Tags a clone has for an artifact that its remote lacks, sorted into the ones to push and
the ones that lost their race.

They are what a killed `--push` run, or a write without `--push`, leaves behind. A write that
pushes deals with them first, so that it never plans from (and never says "nothing to do"
because of) a tag the remote, which deploys, has not got. Pure: no git here.
"""

from __future__ import annotations

from typing import NamedTuple

from stagetag.events import Kind
from stagetag.gitio import TagRecord
from stagetag.grammar import Action, ParsedTag, parse_tag
from stagetag.registry import replay_tags
from stagetag.state import ManyVersionsError, RegistryState
from stagetag.writes import NewTag, next_counter

_KINDS = {
    Action.REGISTER: Kind.REGISTRATION,
    Action.DEREGISTER: Kind.DEREGISTRATION,
    Action.ASSIGN: Kind.ASSIGNMENT,
    Action.UNASSIGN: Kind.UNASSIGNMENT,
    Action.DEPRECATE: Kind.DEPRECATION,
}


class Leftovers(NamedTuple):
    """`wanted`: still valid, to push in this order; `lost`: overtaken, to drop."""

    wanted: tuple[NewTag, ...]
    lost: tuple[TagRecord, ...]


def sort_out(tags: list[TagRecord], on_remote: frozenset[str], artifact: str) -> Leftovers:
    """Sort the artifact's annotated tags that the remote lacks (`on_remote` names the
    artifact's tags it has). One lost its race when the remote has since taken its counter,
    or when, added to the remote's tags, it would put a second version on its commit or GTO
    could not read it. Oldest first, so that a
    registration comes before the assignment that needs it. Lightweight tags are no events:
    they stay as they are."""
    theirs = [t for t in tags if t.name in on_remote]
    ours = sorted(
        (
            (tag, parsed)
            for tag in tags
            if tag.annotated and tag.name not in on_remote
            if (parsed := parse_tag(tag.name)) and parsed.artifact == artifact
            if parsed.action in _KINDS
        ),
        key=lambda pair: (
            pair[0].stamp.epoch if pair[0].stamp else 0,
            pair[1].stage is not None,  # in a second, registrations before stage tags
            pair[0].name,
        ),
    )
    taken = next_counter(theirs, artifact) - 1
    skipped = len(_replayed(theirs).problems)
    kept: list[tuple[TagRecord, ParsedTag]] = []
    lost: list[TagRecord] = []
    for tag, parsed in ours:
        overtaken = parsed.counter is not None and parsed.counter <= taken
        candidate = _replayed([*theirs, *(t for t, _ in kept), tag])
        if overtaken or len(candidate.problems) > skipped or _shared(candidate, tag, parsed):
            lost.append(tag)
        else:
            kept.append((tag, parsed))
    state = _replayed([*theirs, *(t for t, _ in kept)])
    return Leftovers(tuple(_as_new_tag(state, t, p) for t, p in kept), tuple(lost))


def _shared(state: RegistryState, tag: TagRecord, parsed: ParsedTag) -> bool:
    """Whether the tag's commit now holds two versions (one commit holds one version)."""
    try:
        state.artifacts[parsed.artifact].find_version(tag.target, create=False)
    except ManyVersionsError:
        return True
    return False


def _replayed(tags: list[TagRecord]) -> RegistryState:
    state = RegistryState()
    replay_tags(state, tags)
    return state


def _as_new_tag(state: RegistryState, tag: TagRecord, parsed: ParsedTag) -> NewTag:
    """The tag as the write that made it planned it, for the promotion policy and the push:
    a stage tag's version is the one registered at its commit (else the commit, as GTO)."""
    version = parsed.version or ""
    if parsed.stage is not None:
        try:
            holder = state.artifacts[parsed.artifact].find_version(tag.target, create=False)
        except (KeyError, ManyVersionsError):
            holder = None
        version = holder.version if holder is not None else tag.target
    return NewTag(
        tag.name,
        tag.target,
        tag.message,
        _KINDS[parsed.action],
        parsed.artifact,
        version,
        parsed.stage,
    )
