"""Create planned tags and push them so that parallel runs cannot collide.

Without `--push` tags are only created locally, as GTO does. With it:

1. fetch the remote's tags of the artifact (and stagetag's per-artifact counter refs) before
   planning, so the next `#N` is computed from what the remote has; then sort out the tags
   this clone has for the artifact and the remote lacks (a killed run's, or a write's without
   `--push`): push the ones still valid, drop the ones that lost their race (`leftovers.py`).
   So "nothing to do" is only ever said when the remote holds it;
2. push one tag per push (a registration before the assignment that needs it), together
   with a compare-and-swap of `refs/stagetag/counters/<artifact>`: two runs that planned
   from the same state cannot both succeed, even for different stages;
3. when the remote says someone else was first, delete the local tags not on the remote,
   wait a jittered, growing moment (capped), fetch again, plan again, and retry until a
   deadline. Whatever happens, no local tag is left that the remote does not have.

Why retries and not a lease on the counter: the compare-and-swap already serializes writers,
and a lease would cost two more pushes on every uncontended write and need an expiry (clocks
of CI runners disagree) for a run killed while holding it. What limits throughput is GTO's
ordering by whole seconds: two tags that compete for one stage must be a second apart, so a
write waits for a new second only when the artifact's newest event could compete with it.

`--delete` plans delete tags instead. Without `--push` they go locally, as in GTO. With it,
one atomic push deletes them on the remote only where each still points at the object this
run saw (`--force-with-lease=refs/tags/X:<sha>`), moves the artifact's counter ref (so that
a parallel run that planned from the old tags loses its compare-and-swap and plans again)
and leaves a tombstone, `refs/stagetag/deleted/<tag object>`, for each tag deleted. Every
run's fetch brings the tombstones along and deletes the local tags they name, so that a clone
never plans from (or keeps) a tag that a parallel run deleted. The local tags go only once
the remote's are gone.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shlex
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from stagetag import gitio
from stagetag.errors import StagetagError
from stagetag.grammar import name_to_tag
from stagetag.leftovers import Leftovers, sort_out
from stagetag.registry import Registry, load_registry, tag_prefixes
from stagetag.text import redact
from stagetag.writes import DeletedTag, NewTag, Plan

Planner = Callable[[Registry], Plan]
Check = Callable[[Registry, Plan], None]
Vet = Callable[[NewTag], None]  # a tag just made, before it is pushed

PATIENCE = 300.0  # seconds a write keeps planning again after lost races
ATTEMPTS = 1000
REFUSALS = 3  # refusals in a row with the remote unchanged (a hook, or a lock held a while)
_BASE_DELAY = 0.1  # seconds; doubled each attempt, capped, with full jitter
_MAX_DELAY = 2.0
_CLOCK_MARGIN = 0.05


class Dropped(NamedTuple):
    """A local tag that lost its race, and the object it named (to restore it by hand)."""

    name: str
    tag_object: str


class Outcome(NamedTuple):
    plan: Plan
    created: tuple[NewTag, ...]  # tags now in the local repository (and on the remote if pushed)
    pushed: bool
    deleted: tuple[DeletedTag, ...] = ()  # tags now gone locally (and from the remote if pushed)
    recovered: tuple[NewTag, ...] = ()  # tags an earlier run left here, now pushed
    dropped: tuple[Dropped, ...] = ()  # local tags that lost their race, gone
    ignored: tuple[str, ...] = ()  # local tags the remote lacks and no run here made: left be


class _Lost(Exception):
    """A push was refused. `raced`: the remote's tag or counter changed since this run looked,
    so someone else was first; else it refused for its own reasons (a hook, a permission), or
    for a moment (a lock held by a push in flight), which one retry tells apart. `pushed`
    holds the tags of the plan that did get onto the remote before that, `recovered` the
    leftovers."""

    def __init__(
        self,
        reason: str,
        raced: bool,
        pushed: tuple[NewTag, ...] = (),
        recovered: tuple[NewTag, ...] = (),
    ) -> None:
        super().__init__(reason)
        self.raced = raced
        self.pushed = pushed
        self.recovered = recovered  # leftovers pushed before the refusal


def counter_ref(artifact: str) -> str:
    """One ref per artifact; `/` is escaped so that `a` and `a/b` never clash as ref paths."""
    return "refs/stagetag/counters/" + name_to_tag(artifact).replace("/", "%2F")


def _fetched_counter_ref(remote: str, artifact: str) -> str:
    """Where the remote's counter is kept locally; a remote given as a URL gets a safe name."""
    return counter_ref(artifact).replace(
        "refs/stagetag/", f"refs/stagetag/remotes/{_ref_safe(remote)}/", 1
    )


def _mirror(remote: str) -> str:
    """Where the remote's tags of the artifacts written are mirrored, to tell which local
    tags the remote lacks without listing the remote's every tag."""
    return f"refs/stagetag/remotes/{_ref_safe(remote)}/tags/"


def _tombstones(remote: str) -> str:
    """Where the remote's tombstones (`refs/stagetag/deleted/*`) are kept locally."""
    return f"refs/stagetag/remotes/{_ref_safe(remote)}/deleted"


def _ref_safe(remote: str) -> str:
    """A remote's name as a ref path part. A URL is named by a hash of it without its
    credentials: a token must never become part of a ref name (or a file under .git)."""
    if "/" in remote or ":" in remote or "@" in remote:
        return "url-" + hashlib.sha256(redact(remote).encode()).hexdigest()[:16]
    return re.sub(r"[^A-Za-z0-9._-]+", "_", remote).strip("._") or "remote"


def apply(
    root: Path,
    artifact: str,
    planner: Planner,
    check: Check,
    push: bool = False,
    remote: str = "origin",
    dry_run: bool = False,
    attempts: int = ATTEMPTS,
    patience: float = PATIENCE,
    sign_with: Path | None = None,
    vet: Vet | None = None,
) -> Outcome:
    """Plan with `planner` on fresh state, vet with `check`, then create (signed `sign_with`
    an SSH key, and each checked by `vet`) and push the tags of `artifact`, the one artifact
    a write touches."""
    annotate = frozenset([artifact])  # a deprecation targets the newest event's commit
    pushed_before: tuple[NewTag, ...] = ()  # tags of the plan an earlier attempt pushed
    recovered: tuple[NewTag, ...] = ()  # leftovers pushed by an earlier attempt
    refusals = 0  # attempts in a row refused with the remote unchanged
    raced = False  # a parallel run changed the remote since an earlier attempt looked
    deadline = time.monotonic() + patience
    attempt = 0
    while attempt < attempts:
        attempt += 1
        try:
            found = Leftovers()
            replaced: tuple[Dropped, ...] = ()
            local: dict[str, str] = {}
            if push:
                on_remote, replaced, local = _fetch(root, remote, artifact, dry_run)
                pending = _pending(root, artifact)
                tags = gitio.read_tags(root, tag_prefixes([artifact]))
                found = sort_out(tags, on_remote, pending, artifact)
                _forget_pending(root, pending - set(found.lost) - {t.name for t in found.wanted})
            # a dry run plans as if the tags that lost were gone (a real run deletes them)
            kept_in_dry_run = tuple(d.name for d in replaced) if dry_run else ()
            leave_out = frozenset(found.lost + found.ignored + kept_in_dry_run)
            registry = load_registry(
                root, annotate=annotate, leave_out=leave_out, artifacts=annotate
            )
            try:
                plan = planner(registry)
            except StagetagError as e:
                if not raced:
                    raise
                raise StagetagError(
                    f"a parallel run changed {remote!r} first, and now {e.message}", **e.options
                ) from None
            check(registry, plan)
            deleting = {d.name for d in plan.deletes}
            wanted = tuple(t for t in found.wanted if t.name not in deleting)
            _check_leftovers(root, wanted, leave_out, check, vet, remote)
            done = Outcome(
                plan,
                pushed_before,
                bool(pushed_before or recovered or wanted),
                recovered=recovered + wanted,
                dropped=replaced + tuple(Dropped(n, local[n]) for n in found.lost),
                ignored=found.ignored,
            )
            if dry_run:
                return done
            gitio.delete_tags(root, list(found.lost))
            _forget_pending(root, found.lost)
            recovered += _push_leftovers(root, remote, wanted)
            if plan.noop:
                return done
            if plan.deletes:
                return done._replace(deleted=_delete(root, plan, push, remote), pushed=push)
            _wait_for_a_new_second(registry, plan)
            outcome = _create_and_push(root, plan, push, remote, sign_with, vet)
            return done._replace(created=pushed_before + outcome.created, pushed=outcome.pushed)
        except _Lost as lost:
            pushed_before += lost.pushed
            recovered += lost.recovered
            refusals = 0 if lost.raced else refusals + 1
            if refusals >= REFUSALS:
                raise StagetagError(str(lost)) from None
            raced = raced or lost.raced
            delay = random.uniform(0, min(_MAX_DELAY, _BASE_DELAY * 2**attempt))
            if time.monotonic() + delay > deadline:
                break
            time.sleep(delay)
    raise StagetagError(
        f"gave up after {attempt} attempts: parallel runs kept taking the next tag on "
        f"{remote!r}; run again"
    )


def _check_leftovers(
    root: Path,
    wanted: tuple[NewTag, ...],
    leave_out: frozenset[str],
    check: Check,
    vet: Vet | None,
    remote: str,
) -> None:
    """The policy holds for leftovers as for a plan: each is checked against the remote's
    state with the leftovers before it (a leftover deregistration must not hide the stage it
    takes; a staging leftover lets the prod one after it in), and vetted as a tag just made
    (its signature)."""
    for index, tag in enumerate(wanted):
        later = frozenset(t.name for t in wanted[index:])
        before = load_registry(
            root, leave_out=leave_out | later, artifacts=frozenset([tag.artifact])
        )
        try:
            check(before, Plan((tag,)))
            if vet is not None:
                vet(tag)
        except StagetagError as e:
            raise StagetagError(
                f"local tag {tag.name!r}, left by an earlier run, is not on {remote!r}, and "
                f"{e.message}; delete it (git tag -d {shlex.quote(tag.name)}) to go on",
                **e.options,
            ) from None


def _push_leftovers(root: Path, remote: str, wanted: tuple[NewTag, ...]) -> tuple[NewTag, ...]:
    """Push the leftovers still valid, oldest first, each with the counter's swap."""
    pushed: list[NewTag] = []
    for tag in wanted:
        try:
            _push_one(root, remote, tag)
        except _Lost as lost:
            raise _Lost(str(lost), lost.raced, recovered=tuple(pushed)) from None
        pushed.append(tag)
    return tuple(pushed)


def _wait_for_a_new_second(registry: Registry, plan: Plan, patience: float = 2.0) -> None:
    """GTO orders events by whole tagger seconds and breaks ties by tag name, so a tag made in
    the same second as a competing one may not win: a tag of another stage never competes,
    anything else may. Start a new second first (if the newest tag is from the future, a
    skewed clock, waiting is bounded)."""
    newest = max(
        (
            e.created_at.epoch
            for t in plan.tags
            if (artifact := registry.state.artifacts.get(t.artifact))
            for e in artifact.events
            if e.tag is not None and (e.stage is None or t.stage in (None, e.stage))
        ),
        default=0,
    )
    # git stamps tags with time(2), which on Linux reads a coarse clock that lags the precise
    # one by up to a scheduler tick: wait a little past the second boundary.
    delay = newest + 1 + _CLOCK_MARGIN - time.time()
    if 0 < delay <= patience:
        time.sleep(delay)


def _fetch(
    root: Path, remote: str, artifact: str, dry_run: bool
) -> tuple[frozenset[str], tuple[Dropped, ...], dict[str, str]]:
    """The remote's tags of `artifact` (mirrored, so that tags it lacks show), its counters
    and tombstones; then the local tags are made to match the mirror: a local tag that
    differs from the remote's lost its race, and one that a tombstone names goes (a parallel
    run deleted it there). A dry run only adds the tags this clone lacks. Returns the names
    the remote has, the local tags replaced, and the artifact's local tags."""
    tag, mirror = name_to_tag(artifact), _mirror(remote)
    gitio.fetch(
        root,
        remote,
        f"+refs/tags/{tag}@*:{mirror}{tag}@*",
        f"+refs/tags/{tag}#*:{mirror}{tag}#*",
        f"+{counter_ref(artifact)}*:{_fetched_counter_ref(remote, artifact)}*",  # if there
        f"+refs/stagetag/deleted/*:{_tombstones(remote)}/*",
        prune=True,
    )
    theirs = _refs(root, mirror, tag)
    ours = _refs(root, "refs/tags/", tag)
    dead = set(gitio.local_refs(root, _tombstones(remote)).values())
    gone = [n for n, sha in ours.items() if sha in dead and n not in theirs]
    moved = [(n, sha) for n, sha in theirs.items() if ours.get(n) != sha]
    replaced = tuple(Dropped(n, ours[n]) for n, _ in moved if n in ours and ours[n] not in dead)
    if dry_run:
        moved = [(n, sha) for n, sha in moved if n not in ours]
    else:
        gitio.delete_tags(root, gone)
        _forget_pending(root, gone)
    gitio.update_refs(root, [(f"refs/tags/{n}", sha) for n, sha in moved])
    local = {n: sha for n, sha in ours.items() if dry_run or n not in gone} | dict(moved)
    return frozenset(theirs), replaced, local


_PENDING = "refs/stagetag/pending/"  # the journal: tags a write here made, until pushed


def _pending(root: Path, artifact: str) -> frozenset[str]:
    return frozenset(_refs(root, _PENDING, name_to_tag(artifact)))


def _note_pending(root: Path, tags: tuple[NewTag, ...]) -> None:
    """Before tags are made: a run killed at any moment after this leaves them known."""
    gitio.update_refs(root, [(_PENDING + t.name, t.target) for t in tags])


def _forget_pending(root: Path, names: Iterable[str]) -> None:
    gitio.update_refs(root, [(_PENDING + name, None) for name in names])


def _refs(root: Path, under: str, tag: str) -> dict[str, str]:
    """The refs under `under` named like the artifact's tags (`tag` is its name in tags)."""
    found = gitio.local_refs(root, *gitio.starting_with(f"{under}{tag}@", f"{under}{tag}#"))
    return {name.removeprefix(under): sha for name, sha in found.items()}


def _create_and_push(
    root: Path, plan: Plan, push: bool, remote: str, sign_with: Path | None, vet: Vet | None
) -> Outcome:
    """Note the plan's tags in the journal, make them and (maybe) push them; whatever fails,
    the ones made and not pushed go again (tags and journal)."""
    created: list[NewTag] = []
    pushed: list[NewTag] = []
    _note_pending(root, plan.tags)
    try:
        for tag in plan.tags:
            gitio.create_tag(root, tag.name, tag.target, tag.message, sign_with)
            created.append(tag)
            if vet is not None:
                vet(tag)
        if push:
            for tag in plan.tags:
                _push_one(root, remote, tag)
                pushed.append(tag)
    except BaseException as e:
        gitio.delete_tags(root, [t.name for t in created if t not in pushed])
        _forget_pending(root, [t.name for t in plan.tags if t not in pushed])
        if isinstance(e, _Lost):
            raise _Lost(str(e), e.raced, tuple(pushed)) from None
        raise
    return Outcome(plan, tuple(created), push)


def _push_one(root: Path, remote: str, tag: NewTag) -> None:
    ref = counter_ref(tag.artifact)
    fetched = _fetched_counter_ref(remote, tag.artifact)
    expected = gitio.ref_value(root, fetched) or ""
    tag_object = gitio.tag_object(root, tag.name)
    result = gitio.push(
        root,
        remote,
        [f"refs/tags/{tag.name}:refs/tags/{tag.name}", f"{tag_object}:{ref}"],
        leases=[f"{ref}:{expected}"],
    )
    if not result.accepted:
        # Why, from the remote's state rather than git's words: did its tag or counter move?
        now = gitio.remote_refs(root, remote, f"refs/tags/{tag.name}", ref)
        raced = now is not None and (
            now.get(f"refs/tags/{tag.name}", tag_object) != tag_object
            or now.get(ref, "") != expected
        )
        said = f" ({'; '.join(result.remote_said)})" if result.remote_said else ""
        causes = "; ".join(dict.fromkeys(result.rejections))
        raise _Lost(f"{remote!r} refused tag {tag.name!r}: {causes}{said}", raced)
    gitio.update_ref(root, fetched, tag_object)
    _forget_pending(root, [tag.name])


def _delete(root: Path, plan: Plan, push: bool, remote: str) -> tuple[DeletedTag, ...]:
    """Delete the plan's tags: on the remote first (one atomic push, each tag leased to the
    object this run saw, the counter moved, a tombstone per tag), then locally."""
    names = [d.name for d in plan.deletes]
    ours = gitio.local_refs(root, "refs/tags")
    seen = {n: ours[f"refs/tags/{n}"] for n in names}
    if push:
        theirs = gitio.remote_refs(root, remote, *(f"refs/tags/{n}" for n in names))
        if theirs is None:
            raise StagetagError(f"cannot list the tags on {remote!r}; is it reachable?")
        moved = [n for n in names if theirs.get(f"refs/tags/{n}", seen[n]) != seen[n]]
        if moved:  # made anew since this run fetched: plan again from the remote's tags
            raise _Lost(f"tag {moved[0]!r} changed on {remote!r}", raced=True)
        # A tag the remote lacks was never pushed, or a parallel run deleted it: either way
        # it only goes here.
        there = [n for n in names if f"refs/tags/{n}" in theirs]
        if there:
            _push_deletion(root, remote, plan.deletes[0], [(n, seen[n]) for n in there])
    gitio.delete_tags(root, names)
    _forget_pending(root, names)
    return plan.deletes


def _push_deletion(
    root: Path, remote: str, first: DeletedTag, doomed: list[tuple[str, str]]
) -> None:
    ref = counter_ref(first.artifact)
    fetched = _fetched_counter_ref(remote, first.artifact)
    expected = gitio.ref_value(root, fetched) or ""
    listed = " ".join(n for n, _ in doomed)
    marker = gitio.write_marker(
        root, first.target, f"stagetag: deleted {listed} ({os.urandom(8).hex()})"
    )
    refspecs = [f":refs/tags/{n}" for n, _ in doomed]
    refspecs += [f"{sha}:refs/stagetag/deleted/{sha}" for _, sha in doomed]
    refspecs.append(f"{marker}:{ref}")
    leases = [f"refs/tags/{n}:{sha}" for n, sha in doomed] + [f"{ref}:{expected}"]
    result = gitio.push(root, remote, refspecs, leases)
    if not result.accepted:
        # Why, from the remote's state: did one of the tags or the counter move?
        now = gitio.remote_refs(root, remote, *(f"refs/tags/{n}" for n, _ in doomed), ref)
        raced = now is not None and (
            any(now.get(f"refs/tags/{n}") != sha for n, sha in doomed)
            or now.get(ref, "") != expected
        )
        said = f" ({'; '.join(result.remote_said)})" if result.remote_said else ""
        causes = "; ".join(dict.fromkeys(result.rejections))
        raise _Lost(f"{remote!r} refused to delete {listed}: {causes}{said}", raced)
    gitio.update_ref(root, fetched, marker)
    for _, sha in doomed:
        gitio.update_ref(root, f"{_tombstones(remote)}/{sha}", sha)
