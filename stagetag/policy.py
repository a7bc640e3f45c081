"""Promotion rules beyond GTO: an order of stages, and stages only some actors and branches
may change. They live in `stagetag.yaml` under `promotion:`.

    promotion:
      order: [dev, staging, prod]     # a version enters prod only after it was in staging
      protected:
        prod:
          actors: [alice, release-bot]
          branches: [main]            # the commit must be on one of these branches
          signed: true                # the tag must be signed by a key in `signers`
      signers: .stagetag/allowed_signers  # git's allowed-signers file (ssh-keygen(1))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from stagetag.errors import Option, StagetagError
from stagetag.events import Kind
from stagetag.grammar import NAME_RE
from stagetag.settings import Settings
from stagetag.state import RegistryState
from stagetag.writes import DeletedTag, NewTag
from stagetag.yamlio import Located


@dataclass(frozen=True)
class Protection:
    actors: tuple[str, ...] | None = None
    branches: tuple[str, ...] | None = None
    signed: bool = False


@dataclass(frozen=True)
class Signers:
    """The allowed-signers file: as stagetag.yaml names it, and where it is read from."""

    shown: str
    path: Path


@dataclass(frozen=True)
class PromotionPolicy:
    order: tuple[str, ...] = ()
    protected: dict[str, Protection] = field(default_factory=dict)
    signers: Signers | None = None

    def signed_stages(self) -> frozenset[str]:
        return frozenset(stage for stage, rules in self.protected.items() if rules.signed)


_SECTION_KEYS = {"order", "protected", "signers"}


def load_policy(settings: Settings) -> PromotionPolicy:
    section = settings.section("promotion", _SECTION_KEYS)
    order = _names(settings, section, "order")
    protected_section = settings.mapping(section, "protected")
    protected = {}
    for stage in protected_section:
        rules = settings.mapping(protected_section, stage, {"actors", "branches", "signed"})
        protected[str(stage)] = Protection(
            actors=_names(settings, rules, "actors", plain=False) if "actors" in rules else None,
            branches=_names(settings, rules, "branches", plain=False)
            if "branches" in rules
            else None,
            signed=_signed(settings, rules, "signers" in section),
        )
    shown = signers_path(settings)
    signers = None
    if shown is not None:
        path = settings.path.parent / shown
        if not path.is_file():
            raise settings.error(section, "signers", f"file {shown!r} does not exist")
        signers = Signers(shown, path)
    return PromotionPolicy(order=order, protected=protected, signers=signers)


def signers_path(settings: Settings) -> str | None:
    """`promotion: signers:`, a file in the repository (relative, inside it), if given."""
    section = settings.section("promotion", _SECTION_KEYS)
    value = section.get("signers")
    if value is None:
        return None
    parts = PurePosixPath(value).parts if isinstance(value, str) else ()
    if not parts or parts[0] == "/" or ".." in parts or "\\" in value:
        raise settings.error(
            section,
            "signers",
            "expected the path of a file in the repository, e.g. .stagetag/allowed_signers",
        )
    return str(PurePosixPath(value))


def _signed(settings: Settings, rules: Located, have_signers: bool) -> bool:
    value = rules.get("signed", False)
    if not isinstance(value, bool):
        raise settings.error(rules, "signed", "expected true or false")
    if value and not have_signers:
        raise settings.error(
            rules,
            "signed",
            "needs promotion.signers: the allowed-signers file of the keys that may sign",
        )
    return value


def _names(settings: Settings, mapping: Located, key: str, plain: bool = True) -> tuple[str, ...]:
    value = mapping.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise settings.error(mapping, key, "expected a list of names")
    if plain:
        for name in value:
            if not NAME_RE.match(name):
                raise settings.error(mapping, key, f"{name!r} is not a valid stage name")
    return tuple(value)


def check_promotion(
    policy: PromotionPolicy,
    state: RegistryState,
    tags: tuple[NewTag, ...],
    actor: str | None,
    on_branch: Callable[[str, str], bool],
    force: bool,
) -> None:
    """Raise StagetagError for the first tag the policy forbids. `--force` lifts the order,
    never the actor or branch limits."""
    for tag in tags:
        for stage in _stages_changed(state, tag):
            rules = policy.protected.get(stage)
            if rules is not None:
                _check_protection(tag._replace(stage=stage), rules, actor, on_branch)
        if tag.event is Kind.ASSIGNMENT and not force:
            _check_order(policy, state, tag)


def _stages_changed(state: RegistryState, tag: NewTag) -> list[str]:
    """The stages whose holder a tag changes: its own, or for a deregistration the stages the
    version holds now (they fall back to the previous holder), for a deprecation every one."""
    if tag.stage is not None:
        return [tag.stage]
    artifact = state.artifacts.get(tag.artifact)
    if artifact is None:
        return []
    if tag.event is Kind.DEREGISTRATION:
        return sorted(
            stage
            for stage in artifact.held_stages()
            if (holder := artifact.holder(stage)) is not None and holder.version == tag.version
        )
    if tag.event is Kind.DEPRECATION:
        return sorted(artifact.held_stages())
    return []


def check_deletion(
    policy: PromotionPolicy,
    deletes: tuple[DeletedTag, ...],
    actor: str | None,
    on_branch: Callable[[str, str], bool],
) -> None:
    """Deleting a protected stage's tags changes who holds it: the same actors and branches
    as writing them (`--force` lifts neither)."""
    for tag in deletes:
        rules = policy.protected.get(tag.stage) if tag.stage is not None else None
        if rules is not None:
            _check_protection(tag, rules, actor, on_branch)


def check_signing(
    policy: PromotionPolicy, state: RegistryState, tags: tuple[NewTag, ...], signing: bool
) -> dict[str, str]:
    """Each tag that changes a stage with `signed: true`, with that stage; without a key to
    sign with (`signing`), such a write is refused: dispatch would never deploy it."""
    signed = policy.signed_stages()
    must = {
        tag.name: min(stages)
        for tag in tags
        if (stages := signed.intersection(_stages_changed(state, tag)))
    }
    if must and not signing:
        raise StagetagError(
            f"stage {next(iter(must.values()))!r} takes only signed tags: give {{key}}, an SSH "
            "key listed in the allowed signers "
            f"({policy.signers.shown if policy.signers else 'promotion.signers'})",
            key=Option("signing_key"),
        )
    return must


def _check_protection(
    tag: NewTag | DeletedTag,
    rules: Protection,
    actor: str | None,
    on_branch: Callable[[str, str], bool],
) -> None:
    if rules.actors is not None:
        allowed = {a.casefold() for a in rules.actors}
        if actor is None or actor.casefold() not in allowed:
            raise StagetagError(
                f"stage {tag.stage!r} is protected: only {', '.join(rules.actors)} may change it "
                f"(actor: {actor or 'unknown'})"
            )
    if rules.branches is not None and not any(on_branch(tag.target, b) for b in rules.branches):
        raise StagetagError(
            f"stage {tag.stage!r} is protected: commit {tag.target[:7]} is not on "
            f"{', '.join(rules.branches)}"
        )


def _check_order(policy: PromotionPolicy, state: RegistryState, tag: NewTag) -> None:
    if tag.stage not in policy.order:
        return
    index = policy.order.index(tag.stage)
    if index == 0:
        return
    before = policy.order[index - 1]
    artifact = state.artifacts.get(tag.artifact)
    versions = [v for v in artifact.versions if v.version == tag.version] if artifact else []
    if not any(before in v.stages and v.stages[before].assignments for v in versions):
        raise StagetagError(
            f"{tag.artifact} {tag.version} cannot enter {tag.stage!r} before {before!r} "
            f"(promotion order: {' -> '.join(policy.order)}); use {{force}} to skip the order",
            force=Option("force"),
        )
