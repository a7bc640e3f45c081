"""Load a registry: read the tags once, replay them in GTO's order, and report what was skipped.

GTO replays tags in three passes (deprecations, then registrations, then stage tags), each in
tagger-time order with ties in tag-name order, and then adds one commit event per version.
Where GTO would crash for the whole repository, the offending tag is skipped and named in
`RegistryState.problems` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from stagetag import gitio
from stagetag.annotations import Annotation, parse_index
from stagetag.config import RegistryConfig, load_config
from stagetag.errors import StagetagError
from stagetag.events import Event, Kind
from stagetag.gitio import CommitInfo, TagRecord
from stagetag.grammar import Action, ParsedTag, parse_tag
from stagetag.state import ManyVersionsError, RegistryState

_PASSES = (
    frozenset({Action.DEPRECATE}),
    frozenset({Action.REGISTER, Action.DEREGISTER}),
    frozenset({Action.ASSIGN, Action.UNASSIGN}),
)
_KINDS = {
    Action.DEPRECATE: Kind.DEPRECATION,
    Action.REGISTER: Kind.REGISTRATION,
    Action.DEREGISTER: Kind.DEREGISTRATION,
    Action.ASSIGN: Kind.ASSIGNMENT,
    Action.UNASSIGN: Kind.UNASSIGNMENT,
}


class Registry:
    """A repository's registry: its root, `.gto` config, tags and replayed state."""

    def __init__(
        self,
        root: Path,
        config: RegistryConfig,
        tags: list[TagRecord],
        state: RegistryState,
    ) -> None:
        self.root = root
        self.config = config
        self.tags = tags
        self.state = state

    @property
    def problems(self) -> list[str]:
        return self.state.problems


def load_config_or_default(root: Path, problems: list[str]) -> RegistryConfig:
    """Read commands keep answering with a broken `.gto`; the problem is reported instead."""
    try:
        return load_config(root)
    except StagetagError as e:
        problems.append(f"{e}; ignoring it")
        return RegistryConfig()


def load_registry(
    path: Path, with_commits: bool = True, annotate: frozenset[str] = frozenset()
) -> Registry:
    """Read the registry at `path`.

    `with_commits` adds each version's commit event (the registry and artifact views depend on
    it; history and check-ref do not) and the artifacts annotated at HEAD. `annotate` names the
    artifacts whose versions get their `artifacts.yaml` annotations read at their commits.
    """
    root = gitio.repo_root(path)
    problems: list[str] = []
    config = load_config_or_default(root, problems)
    tags = gitio.read_tags(root)
    state = RegistryState()
    state.problems.extend(problems)
    replay_tags(state, tags)
    if with_commits:
        add_commit_events(state, root, config, annotate)
    return Registry(root, config, tags, state)


def replay_tags(state: RegistryState, tags: list[TagRecord]) -> None:
    parsed = []
    for tag in sorted(tags, key=lambda t: t.name):
        found = parse_tag(tag.name)
        if found is None:
            continue
        if found.action is Action.CREATE:
            state.problems.append(
                f"tag {tag.name!r}: '@created' tags have no meaning (GTO fails on them); skipped"
            )
            continue
        if tag.annotated and tag.tagged_at is not None:
            parsed.append((tag, found))
    parsed.sort(key=lambda pair: pair[0].tagged_at.epoch if pair[0].tagged_at else 0)
    for actions in _PASSES:
        for tag, found in parsed:
            if found.action in actions:
                _replay(state, tag, found)


def _replay(state: RegistryState, tag: TagRecord, parsed: ParsedTag) -> None:
    artifact = state.artifact(parsed.artifact)
    version = parsed.version
    try:
        if parsed.action in (Action.ASSIGN, Action.UNASSIGN):
            holder = artifact.find_version(tag.target)
            assert holder is not None
            version = holder.version
        assert tag.tagged_at is not None
        artifact.add(
            Event(
                kind=_KINDS[parsed.action],
                artifact=parsed.artifact,
                created_at=tag.tagged_at,
                author=tag.tagger_name,
                author_email=tag.tagger_email,
                message=tag.message.strip(),
                commit_hexsha=tag.target,
                tag=tag.name,
                version=version,
                stage=parsed.stage,
            )
        )
    except ManyVersionsError as e:
        state.problems.append(
            f"tag {tag.name!r}: versions {e} of {parsed.artifact!r} share commit "
            f"{tag.target[:7]}, so the stage cannot be attributed (GTO fails here); skipped"
        )


def add_commit_events(
    state: RegistryState, root: Path, config: RegistryConfig, annotate: frozenset[str]
) -> None:
    """One commit event per version, and artifacts that `artifacts.yaml` at HEAD lists."""
    head = gitio.head_commit(root)
    commit_shas = [v.commit_hexsha for a in state.artifacts.values() for v in a.versions]
    commits = gitio.read_commits(root, [*commit_shas, *([head] if head else [])])
    revs = {
        v.commit_hexsha
        for name in annotate
        if name in state.artifacts
        for v in state.artifacts[name].versions
    }
    if head:
        revs.add(head)
    indexes = _read_indexes(state, root, config.index, revs)
    for artifact in list(state.artifacts.values()):
        for version in artifact.versions:
            commit = commits.get(version.commit_hexsha)
            if commit is not None:
                index = indexes.get(version.commit_hexsha, {}) if artifact.name in annotate else {}
                version.add(_commit_event(artifact.name, version.version, commit, index))
    if head is None:
        return
    for name, annotation in indexes.get(head, {}).items():
        discovered = state.artifact(name).find_version(head)
        assert discovered is not None
        discovered.add(_commit_event(name, discovered.version, commits[head], {name: annotation}))


def _read_indexes(
    state: RegistryState, root: Path, index_name: str, revs: set[str]
) -> dict[str, dict[str, Annotation]]:
    indexes = {}
    for rev, text in gitio.read_files_at(root, sorted(revs), index_name).items():
        index = parse_index(text)
        if index is None:
            state.problems.append(f"{index_name} at commit {rev[:7]} is not valid; ignoring it")
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
