"""Tags a clone has for an artifact that its remote lacks, sorted into the ones to push, the
ones that lost their race, and the ones that are not stagetag's to push.

A write records each tag it makes in a journal (publish.py's pending refs) until the remote
has it, so a killed `--push` run, or a write without `--push`, leaves tags that are known to
be wanted. A write that pushes deals with them first, so that it never plans from (and never
says "nothing to do" because of) a tag the remote, which deploys, has not got. A local tag
the journal does not name (made by hand or by GTO, or deleted on the remote since) is never
pushed: it is only left out of the plan. Pure: no git here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from stagetag.gitio import TagRecord
from stagetag.grammar import ParsedTag, parse_tag
from stagetag.registry import KINDS, replay_tags
from stagetag.state import ManyVersionsError, RegistryState
from stagetag.writes import NewTag, next_counter


class Leftovers(NamedTuple):
    """`wanted`: still valid, to push in this order; `lost`: overtaken, to drop; `ignored`:
    not written by a stagetag run here, left alone and out of the plan."""

    wanted: tuple[NewTag, ...] = ()
    lost: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()


def sort_out(
    found: Iterable[TagRecord], on_remote: frozenset[str], pending: frozenset[str], artifact: str
) -> Leftovers:
    """Sort the artifact's event tags that the remote lacks (`on_remote` names the
    artifact's tags it has; `pending`, the tags a write here made and did not push). One lost
    its race when the remote has since taken its counter, or when, added to the remote's
    tags, it would put a second version on its commit or GTO could not read it. Oldest first,
    so that a registration comes before the assignment that needs it."""
    tags = list(found)
    theirs = [t for t in tags if t.name in on_remote]
    ours = sorted(
        (
            (tag, parsed)
            for tag in tags
            if tag.annotated and tag.name not in on_remote
            if (parsed := parse_tag(tag.name)) and parsed.artifact == artifact
            if parsed.action in KINDS
        ),
        key=lambda pair: (  # in a second: registrations first, then in the order made
            pair[0].stamp.epoch if pair[0].stamp else 0,
            pair[1].stage is not None,
            pair[1].counter or 0,
            pair[0].name,
        ),
    )
    if not ours:  # the usual write: nothing to sort, so no replay of the remote's tags
        return Leftovers()
    taken = next_counter(theirs, artifact) - 1
    skipped = len(_replayed(theirs).problems)
    kept: list[tuple[TagRecord, ParsedTag]] = []
    lost: list[str] = []
    ignored: list[str] = []
    for tag, parsed in ours:
        if tag.name not in pending or tag.tag_name != tag.name:
            ignored.append(tag.name)
            continue
        overtaken = parsed.counter is not None and parsed.counter <= taken
        candidate = _replayed([*theirs, *(t for t, _ in kept), tag])
        if overtaken or len(candidate.problems) > skipped or _shared(candidate, tag, parsed):
            lost.append(tag.name)
        else:
            kept.append((tag, parsed))
    state = _replayed([*theirs, *(t for t, _ in kept)])
    wanted = tuple(_as_new_tag(state, t, p) for t, p in kept)
    return Leftovers(wanted, tuple(lost), tuple(ignored))


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
        KINDS[parsed.action],
        parsed.artifact,
        version,
        parsed.stage,
    )
