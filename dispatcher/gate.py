"""The promotion policy, checked again when a tag is deployed. stagetag's writes check it, but
anyone who may push tags can push `churn#prod#9` by hand; the deploy is where it must hold.
The policy comes from the same trusted stagetag.yaml as the deploy config (the default branch,
in CI), the actor from the CI system (who pushed, or who ran the workflow), and for a stage
with `signed: true` the allowed-signers file from that same tree: a tag whose SSH signature
does not verify with a key listed there plans no job, whoever pushed it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from stagetag import gitio, signing
from stagetag.dispatcher.plan import after_deregistration
from stagetag.errors import StagetagError
from stagetag.events import Event, Kind
from stagetag.policy import PromotionPolicy, check_promotion
from stagetag.registry import Registry
from stagetag.views import check_ref_events
from stagetag.writes import NewTag


class PolicyRefused(StagetagError):
    """Some pushed tags broke the promotion policy: nothing was planned for them."""

    exit_code = 5


def ci_actor(env: Mapping[str, str]) -> str | None:
    """Who made the tag arrive, where the CI system says: GitHub's actor, GitLab's user."""
    if env.get("GITHUB_ACTIONS") == "true":
        return env.get("GITHUB_ACTOR") or None
    if env.get("GITLAB_CI") == "true":
        return env.get("GITLAB_USER_LOGIN") or None
    return None


def refusals(
    registry: Registry,
    policy: PromotionPolicy,
    refs: list[str],
    actor: str | None,
    remote: str,
) -> dict[str, str]:
    """Each ref that breaks `policy`, with why. Order applies to assignments; protected
    stages' actors, branches and signatures to every event that changes what a stage runs."""
    if not policy.order and not policy.protected:
        return {}
    on_branch = _branches(registry.root, remote, policy)
    refused: dict[str, str] = {}
    for ref in refs:
        for event in check_ref_events(registry, ref):
            for tag in _changes(registry, event):
                try:
                    check_promotion(policy, registry.state, (tag,), actor, on_branch, False)
                except StagetagError as e:
                    refused[ref] = str(e)
                if ref not in refused and (why := _signature_refusal(registry, policy, tag)):
                    refused[ref] = why
    return refused


def _signature_refusal(registry: Registry, policy: PromotionPolicy, tag: NewTag) -> str | None:
    """Why a tag may not change its stage for want of a good signature, if the stage wants
    one. The event is named after the name inside its tag object, so the registry's tags
    (the ones the event was read from) say which object made it; that object is the one
    whose signature must hold, not whatever refs/tags/<event name> points at."""
    rules = policy.protected.get(tag.stage or "")
    if rules is None or not rules.signed or policy.signers is None:
        return None
    signing.require_ssh_keygen()
    signers = policy.signers
    return signing.refusal(
        registry.root, tag.name, tag.stage or "", signers.path, signers.shown, registry.tags
    )


def _changes(registry: Registry, event: Event) -> list[NewTag]:
    """The stage changes an event made, each as the tag a write would have planned for it:
    the stages a deregistration or a deprecation took away, as the plan computes them."""
    artifact = registry.state.artifacts[event.artifact]
    if event.kind in (Kind.ASSIGNMENT, Kind.UNASSIGNMENT):
        stages = [event.stage] if event.stage else []
    elif event.kind is Kind.DEREGISTRATION:
        stages = [stage for stage, _ in after_deregistration(artifact, event) if stage]
    elif event.kind is Kind.DEPRECATION:
        stages = sorted(artifact.held_stages())
    else:
        return []
    made = NewTag(event.tag or "", event.commit_hexsha, "", event.kind, event.artifact, "")
    return [made._replace(version=event.version or "", stage=stage) for stage in stages]


def _branches(root: Path, remote: str, policy: PromotionPolicy) -> Callable[[str, str], bool]:
    """Whether a commit is on a protected branch, as the remote has it now (fetched once)."""
    branches = sorted({b for p in policy.protected.values() for b in p.branches or ()})
    if branches:
        refspecs = [f"+refs/heads/{b}:refs/stagetag/branches/{b}" for b in branches]
        try:
            gitio.fetch(root, remote, *refspecs)
        except StagetagError as e:
            raise StagetagError(f"cannot fetch the protected branches to check tags: {e}") from None

    def on_branch(commit: str, branch: str) -> bool:
        ref = f"refs/stagetag/branches/{branch}"
        return bool(gitio.ref_value(root, ref)) and gitio.is_ancestor(root, commit, ref)

    return on_branch
