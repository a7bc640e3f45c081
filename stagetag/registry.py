"""Load a registry: read the tags once, replay them in GTO's order, and report what was skipped.

GTO replays tags in three passes (deprecations, then registrations, then stage tags), each in
tagger-time order with ties in tag-name order, and then adds one commit event per version.
Where GTO would crash for the whole repository, the offending tag is skipped and named in
`RegistryState.problems` instead.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from stagetag import gitio
from stagetag.annotations import Annotation, read_index
from stagetag.config import RegistryConfig, load_config
from stagetag.errors import StagetagError
from stagetag.events import Event, Kind
from stagetag.gitio import CommitInfo, TagRecord
from stagetag.grammar import Action, ParsedTag, name_to_tag, parse_tag
from stagetag.state import ManyVersionsError, RegistryState

KINDS = {
    Action.DEPRECATE: Kind.DEPRECATION,
    Action.REGISTER: Kind.REGISTRATION,
    Action.DEREGISTER: Kind.DEREGISTRATION,
    Action.ASSIGN: Kind.ASSIGNMENT,
    Action.UNASSIGN: Kind.UNASSIGNMENT,
}
# Enum members as module globals for the per-tag loop (see grammar's).
_CREATE, _ASSIGN, _UNASSIGN, _DEPRECATE = (
    Action.CREATE,
    Action.ASSIGN,
    Action.UNASSIGN,
    Action.DEPRECATE,
)


class Registry(NamedTuple):
    """A repository's registry: its root, `.gto` config, tags and replayed state."""

    root: Path
    config: RegistryConfig
    tags: list[TagRecord]
    state: RegistryState

    @property
    def problems(self) -> list[str]:
        """What was skipped, and why (tags and files GTO would fail on)."""
        return self.state.problems


def load_config_or_default(root: Path, problems: list[str]) -> RegistryConfig:
    """Read commands keep answering with a broken `.gto`; the problem is reported instead."""
    try:
        return load_config(root)
    except StagetagError as e:
        problems.append(f"{e}; ignoring it")
        return RegistryConfig()


def load_registry(
    path: Path,
    with_commits: bool = True,
    annotate: frozenset[str] = frozenset(),
    leave_out: frozenset[str] = frozenset(),
    keep: Callable[[TagRecord], bool] | None = None,
    artifacts: frozenset[str] | None = None,
) -> Registry:
    """Read the registry at `path`.

    `with_commits` adds each version's commit event (the registry and artifact views depend on
    it; history and check-ref do not) and the artifacts annotated at HEAD. `annotate` names the
    artifacts whose versions get their `artifacts.yaml` annotations read at their commits.
    `leave_out` names tags whose events are left out (a write's view of the remote); their
    names still count for the next `#N` and for names already taken.
    `keep` picks the tags to read, as if the others were deleted (`show --at`).
    `artifacts` limits the read to those artifacts, for a command about them: only the tags
    named after them (`NAME@...`, `NAME#...`) are read, so its cost grows with theirs, not with
    the registry's. That is GTO's answer for them, with one exception: a tag object moved
    under another artifact's name (`git tag other@v1 NAME@v1`), which GTO files under NAME, is
    seen by whole-registry reads only.
    """
    root = gitio.repo_root(path)
    problems: list[str] = []
    config = load_config_or_default(root, problems)
    prefixes = None if artifacts is None else tag_prefixes(artifacts)
    state = RegistryState()
    state.problems.extend(problems)
    found: Iterable[TagRecord] = gitio.read_tags(root, prefixes)
    if keep is not None:
        found = filter(keep, found)
    if leave_out:
        tags = list(found)
        replay_tags(state, [t for t in tags if t.name not in leave_out], artifacts)
    else:
        tags = replay_tags(state, found, artifacts)
    if with_commits:
        add_commit_events(state, root, config, annotate, artifacts)
    return Registry(root, config, tags, state)


def tag_prefixes(artifacts: Iterable[str]) -> list[str]:
    """What the names of the artifacts' tags start with: `NAME@` and `NAME#`. An artifact's
    name in a tag ends at the first `@` or `#` (neither is allowed in names), so these are
    exactly the artifacts' tags: `a@` never matches `a/b@` or `a-b@`."""
    return [f"{name_to_tag(name)}{separator}" for name in sorted(artifacts) for separator in "@#"]


def replay_tags(
    state: RegistryState, tags: Iterable[TagRecord], artifacts: frozenset[str] | None = None
) -> list[TagRecord]:
    """GTO's passes: the ref's name picks the pass (as GTO's `find` does), the name inside the
    tag object says what the event is (as GTO's `index_tag` does); they differ only for a tag
    object under another ref name (`git tag new old` of an annotated tag). With `artifacts`,
    events of other artifacts (from such objects) are left out. `tags` is taken as it comes
    (while git still reads the rest); returns it, as a list."""
    passes: tuple[list[tuple[int, TagRecord, ParsedTag]], ...] = ([], [], [])
    deprecations, versions, stages = passes
    read = []
    for tag in tags:
        read.append(tag)
        found = parse_tag(tag.name)
        if found is None:
            continue  # not GTO's
        if found.action is _CREATE:  # lightweight ones too
            state.problems.append(
                f"tag {tag.name!r}: '@created' tags have no meaning (GTO fails on them); skipped"
            )
            continue
        if not tag.annotated:
            continue  # not an event (it still counts for `#N`)
        stamp = tag.stamp
        if stamp is None:
            state.problems.append(
                f"tag {tag.name!r}: {tag.problem or 'unreadable tag object'} "
                "(GTO fails on it); skipped"
            )
            continue
        parsed = found if tag.tag_name == tag.name else parse_tag(tag.tag_name)
        if parsed is None or parsed.action is _CREATE:
            what = (
                f"its tag object is named {tag.tag_name!r}, not a GTO tag name"
                if parsed is None
                else "'@created' tags have no meaning"
            )
            state.problems.append(f"tag {tag.name!r}: {what} (GTO fails on it); skipped")
            continue
        if artifacts is not None and parsed.artifact not in artifacts:
            continue
        action = found.action
        if action is _ASSIGN or action is _UNASSIGN:
            stages.append((stamp.epoch, tag, parsed))
        elif action is _DEPRECATE:
            deprecations.append((stamp.epoch, tag, parsed))
        else:
            versions.append((stamp.epoch, tag, parsed))
    for tags_in_pass in passes:
        # Oldest first, ties in name order (git lists refs in that order, near enough: bytes,
        # not characters); taken off the end one by one, so that what a tag's event is made
        # from is gone once it is made (a large registry never holds both).
        tags_in_pass.sort(key=_tag_name)
        tags_in_pass.sort(key=itemgetter(0))
        tags_in_pass.reverse()
        while tags_in_pass:
            _, tag, parsed = tags_in_pass.pop()
            _replay(state, tag, parsed)
    return read


def _tag_name(entry: tuple[int, TagRecord, ParsedTag]) -> str:
    return entry[1].name


def _replay(state: RegistryState, tag: TagRecord, parsed: ParsedTag) -> None:
    artifact = state.artifact(parsed.artifact)
    try:
        if parsed.stage is None:
            version = parsed.version
            holder = None
        else:
            # A stage tag belongs to the version registered at its commit. GTO looks that up
            # twice and, where the commit has no registered version, creates a SHA-named
            # version on each lookup; the empty first one still shows up in `show`.
            holder = artifact.find_version(tag.target)
            assert holder is not None
            version = holder.version
    except ManyVersionsError as e:
        state.problems.append(
            f"tag {tag.name!r}: versions {e} of {parsed.artifact!r} share commit "
            f"{tag.target[:7]}, so the stage cannot be attributed (GTO fails here); skipped"
        )
        return
    assert tag.stamp is not None
    event = Event(
        KINDS[parsed.action],
        artifact.name,  # one string for all of the artifact's events
        tag.stamp,
        tag.tagger_name,
        tag.tagger_email,
        tag.message.strip(),
        tag.target,
        tag.tag_name,
        version,
        None if parsed.stage is None else sys.intern(parsed.stage),  # a few names, many tags
    )
    if not artifact.first_time(event):
        return  # GTO files an event once (the same tag object under two ref names)
    if holder is None:
        artifact.add(event)
    else:
        if holder.discovered:  # GTO's second lookup
            holder = artifact.new_version(holder.version, tag.target)
        holder.add(event)


def add_commit_events(
    state: RegistryState,
    root: Path,
    config: RegistryConfig,
    annotate: frozenset[str],
    artifacts: frozenset[str] | None = None,
) -> None:
    """Commit events where they can change an answer, and artifacts `artifacts.yaml` lists
    at HEAD (of those in `artifacts`, when given).

    GTO gives every version a commit event. Its date only matters for SHA pseudo-versions
    (their creation time), for artifacts with a deprecation (is the newest event one?) and
    for the artifacts shown in full (`annotate`); only those commits are read.
    """
    wanted = [
        (artifact, version)
        for artifact in state.artifacts.values()
        for version in artifact.versions
        if version.discovered or artifact.deprecations or artifact.name in annotate
    ]
    annotated = {
        v.commit_hexsha
        for name in annotate
        if name in state.artifacts
        for v in state.artifacts[name].versions
    }
    # One batch: HEAD itself, its index file, the commits wanted and their index files.
    objects = gitio.read_objects(
        root,
        [
            "HEAD",
            f"HEAD:{config.index}",
            # peeled: a tag may point at another tag, and GTO reads the commit behind it
            *(f"{version.commit_hexsha}^{{commit}}" for _, version in wanted),
            *(f"{rev}:{config.index}" for rev in sorted(annotated)),
        ],
    )
    head_object = objects.get("HEAD")
    head = head_object.sha if head_object and head_object.kind == "commit" else None
    commits = {
        name.removesuffix("^{commit}"): gitio.commit_info(obj)
        for name, obj in objects.items()
        if obj.kind == "commit"
    }
    texts = {
        name.partition(":")[0]: obj.data for name, obj in objects.items() if obj.kind == "blob"
    }
    if head and "HEAD" in texts:
        texts[head] = texts.pop("HEAD")
    indexes = _parse_indexes(state, config.index, texts)
    for artifact, version in wanted:
        commit = commits.get(version.commit_hexsha)
        if commit is not None:
            index = indexes.get(version.commit_hexsha, {}) if artifact.name in annotate else {}
            version.add(_commit_event(artifact.name, version.version, commit, index))
    if head is None:
        return
    for name, annotation in indexes.get(head, {}).items():
        if artifacts is not None and name not in artifacts:
            continue
        discovered = state.artifact(name).find_version(head)
        assert discovered is not None
        if any(e.commit_hexsha == head for e in discovered.commit_events):
            continue  # GTO adds the same event again, and drops it as a duplicate
        discovered.add(_commit_event(name, discovered.version, commits["HEAD"], {name: annotation}))


def _parse_indexes(
    state: RegistryState, index_name: str, texts: dict[str, bytes]
) -> dict[str, dict[str, Annotation]]:
    indexes = {}
    for rev, text in sorted(texts.items()):
        index, why = read_index(text)
        if index is None:
            state.problems.append(
                f"{index_name} at commit {rev[:7]}: {why} (GTO fails on it); ignoring it"
            )
            continue
        indexes[rev] = index
    return indexes


def _commit_event(
    artifact: str, version: str, commit: CommitInfo, index: Mapping[str, Annotation]
) -> Event:
    annotation = index.get(artifact)
    return Event(
        kind=Kind.COMMIT,
        artifact=artifact,
        created_at=commit.committed_at,
        author=commit.author_name,
        author_email=commit.author_email,
        message=commit.message,
        commit_hexsha=commit.hexsha,
        version=version,
        committer=commit.committer_name,
        committer_email=commit.committer_email,
        enrichments=({"source": "gto", "artifact": annotation},) if annotation else (),
    )
