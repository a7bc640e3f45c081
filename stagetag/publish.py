"""Create planned tags and push them so that parallel runs cannot collide.

Without `--push` tags are only created locally, as GTO does. With it:

1. fetch the remote's tags (and stagetag's per-artifact counter refs) before planning, so
   the next `#N` is computed from what the remote has;
2. push one tag per push (a registration before the assignment that needs it), together
   with a compare-and-swap of `refs/stagetag/counters/<artifact>`: two runs that planned
   from the same state cannot both succeed, even for different stages;
3. when the remote says someone else was first, delete the local tags not on the remote,
   wait a jittered, growing moment, fetch again, plan again, and retry a bounded number of
   times. Whatever happens, no local tag is left that the remote does not have.

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
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from stagetag import gitio
from stagetag.errors import StagetagError
from stagetag.grammar import name_to_tag
from stagetag.registry import Registry, load_registry, tag_prefixes
from stagetag.text import redact
from stagetag.writes import DeletedTag, NewTag, Plan

Planner = Callable[[Registry], Plan]
Check = Callable[[Registry, Plan], None]

ATTEMPTS = 12
_BASE_DELAY = 0.1  # seconds; doubled each attempt, capped, with full jitter
_MAX_DELAY = 2.0
_CLOCK_MARGIN = 0.05


class Outcome(NamedTuple):
    plan: Plan
    created: tuple[NewTag, ...]  # tags now in the local repository (and on the remote if pushed)
    pushed: bool
    deleted: tuple[DeletedTag, ...] = ()  # tags now gone locally (and from the remote if pushed)


class _Lost(Exception):
    """A push was refused. `raced`: the remote's tag or counter changed since this run looked,
    so someone else was first; else it refused for its own reasons (a hook, a permission), or
    for a moment (a lock held by a push in flight), which one retry tells apart. `pushed`
    holds the tags of the plan that did get onto the remote before that."""

    def __init__(self, reason: str, raced: bool, pushed: tuple[NewTag, ...] = ()) -> None:
        super().__init__(reason)
        self.raced = raced
        self.pushed = pushed


def counter_ref(artifact: str) -> str:
    """One ref per artifact; `/` is escaped so that `a` and `a/b` never clash as ref paths."""
    return "refs/stagetag/counters/" + name_to_tag(artifact).replace("/", "%2F")


def _fetched_counter_ref(remote: str, artifact: str) -> str:
    """Where the remote's counter is kept locally; a remote given as a URL gets a safe name."""
    return counter_ref(artifact).replace(
        "refs/stagetag/", f"refs/stagetag/remotes/{_ref_safe(remote)}/", 1
    )


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
    planner: Planner,
    check: Check,
    push: bool = False,
    remote: str = "origin",
    dry_run: bool = False,
    attempts: int = ATTEMPTS,
    detail: frozenset[str] = frozenset(),
) -> Outcome:
    """Plan with `planner` on fresh state, vet with `check`, then create (and push).
    `detail` names the artifacts the plan is about: only their tags are fetched and read,
    with every commit event (see `load_registry`'s `annotate`); none: the whole registry."""
    pushed_before: tuple[NewTag, ...] = ()  # tags an earlier attempt got onto the remote
    refused = False  # the last attempt was refused with the remote unchanged
    raced = False  # a parallel run changed the remote since an earlier attempt looked
    for attempt in range(attempts):
        if push:
            _fetch(root, remote, detail)
        registry = load_registry(root, annotate=detail, artifacts=detail or None)
        try:
            plan = planner(registry)
        except StagetagError as e:
            if not raced:
                raise
            raise StagetagError(
                f"a parallel run changed {remote!r} first, and now {e.message}", **e.options
            ) from None
        check(registry, plan)
        if plan.noop or dry_run:
            return Outcome(plan, pushed_before, bool(pushed_before))
        try:
            if plan.deletes:
                return _delete(root, plan, push, remote)
            _wait_for_a_new_second(registry, plan)
            outcome = _create_and_push(root, plan, push, remote)
            return outcome._replace(created=pushed_before + outcome.created)
        except _Lost as lost:
            pushed_before += lost.pushed
            if not lost.raced and refused:
                raise StagetagError(str(lost)) from None
            refused = not lost.raced
            raced = raced or lost.raced
            time.sleep(random.uniform(0, min(_MAX_DELAY, _BASE_DELAY * 2**attempt)))
    raise StagetagError(
        f"gave up after {attempts} attempts: parallel runs kept taking the next tag on "
        f"{remote!r}; run again"
    )


def _wait_for_a_new_second(registry: Registry, plan: Plan, patience: float = 2.0) -> None:
    """GTO orders events by whole tagger seconds and breaks ties by tag name, so a tag made in
    the same second as the artifact's newest one may not win. Start a new second first (if
    the newest tag is from the future, a skewed clock, waiting is bounded)."""
    newest = max(
        (
            e.created_at.epoch
            for t in plan.tags
            if (artifact := registry.state.artifacts.get(t.artifact))
            for e in artifact.events
            if e.tag is not None
        ),
        default=0,
    )
    # git stamps tags with time(2), which on Linux reads a coarse clock that lags the precise
    # one by up to a scheduler tick: wait a little past the second boundary.
    delay = newest + 1 + _CLOCK_MARGIN - time.time()
    if 0 < delay <= patience:
        time.sleep(delay)


def _fetch(root: Path, remote: str, artifacts: frozenset[str]) -> None:
    """The remote's tags and counters (of `artifacts` only, when given), and its tombstones;
    then the local tags that a tombstone names go. A local tag that the remote deleted and
    then made anew (same name, another object) fails the first fetch: its tombstone came all
    the same, so the second one succeeds."""
    named = sorted(artifacts) or [""]  # the artifact "": every counter's name starts with it
    refspecs = (
        *gitio.tag_refspecs(tag_prefixes(artifacts) if artifacts else None),
        *(f"+{counter_ref(a)}*:{_fetched_counter_ref(remote, a)}*" for a in named),
        f"+refs/stagetag/deleted/*:{_tombstones(remote)}/*",
    )
    try:
        gitio.fetch(root, remote, *refspecs)
    except gitio.RemoteUnreachable:
        raise
    except gitio.GitError:
        if not _drop_deleted(root, remote):
            _differs(root, remote)
            raise
        try:
            gitio.fetch(root, remote, *refspecs)
        except gitio.RemoteUnreachable:
            raise
        except gitio.GitError:
            _differs(root, remote)
            raise
    _drop_deleted(root, remote)


def _drop_deleted(root: Path, remote: str) -> bool:
    """Delete the local tags that point at a tag object the remote's tombstones name: a
    parallel run deleted them there. Tags the remote never had are left alone."""
    dead = set(gitio.local_refs(root, _tombstones(remote)).values())
    if not dead:
        return False
    names = [n[10:] for n, sha in gitio.local_refs(root, "refs/tags").items() if sha in dead]
    gitio.delete_tags(root, names)
    return bool(names)


def _differs(root: Path, remote: str) -> None:
    """A fetch failed: name the local tag that differs from the remote's, if that is why
    (else return, and the caller raises git's error)."""
    theirs = gitio.remote_refs(root, remote, "refs/tags/*") or {}
    ours = gitio.local_refs(root, "refs/tags")
    differ = sorted(n for n, sha in theirs.items() if ours.get(n, sha) != sha)
    if differ:
        raise StagetagError(
            f"local tag {differ[0].removeprefix('refs/tags/')!r} differs from the one on "
            f"{remote!r}; compare `git tag` with `git ls-remote --tags {remote}` and delete "
            "the local one"
        ) from None


def _create_and_push(root: Path, plan: Plan, push: bool, remote: str) -> Outcome:
    created: list[NewTag] = []
    pushed: list[NewTag] = []
    try:
        for tag in plan.tags:
            gitio.create_tag(root, tag.name, tag.target, tag.message)
            created.append(tag)
        if push:
            for tag in plan.tags:
                _push_one(root, remote, tag)
                pushed.append(tag)
    except _Lost as lost:
        gitio.delete_tags(root, [t.name for t in created if t not in pushed])
        raise _Lost(str(lost), lost.raced, tuple(pushed)) from None
    except BaseException:
        gitio.delete_tags(root, [t.name for t in created if t not in pushed])
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


def _delete(root: Path, plan: Plan, push: bool, remote: str) -> Outcome:
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
    return Outcome(plan, (), push, plan.deletes)


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
