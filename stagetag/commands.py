"""The write commands as one call, `perform(request)`, shared by the CLI and the CI action."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from stagetag import gitio, signing
from stagetag.config import CONFIG_FILE, load_config
from stagetag.errors import Option, StagetagError
from stagetag.policy import (
    PromotionPolicy,
    check_deletion,
    check_promotion,
    check_signing,
    load_policy,
)
from stagetag.publish import Outcome, Vet, apply
from stagetag.registry import Registry
from stagetag.settings import load_settings
from stagetag.writes import (
    NewTag,
    Plan,
    plan_assign,
    plan_delete_artifact,
    plan_delete_stage,
    plan_delete_version,
    plan_deprecate,
    plan_deregister,
    plan_register,
    plan_rollback,
    plan_unassign,
)

Command = Literal["register", "assign", "unassign", "deregister", "deprecate", "rollback"]
COMMANDS: tuple[Command, ...] = (
    "register",
    "assign",
    "unassign",
    "deregister",
    "deprecate",
    "rollback",
)


@dataclass(frozen=True)
class WriteRequest:
    """What to write, as the CLI and the action take it. `simple=None` is GTO's `auto`."""

    command: Command
    name: str
    ref: str | None = None
    version: str | None = None
    stage: str | None = None
    message: str | None = None
    simple: bool | None = None
    force: bool = False
    bump: str | None = None
    skip_registration: bool = False
    to_version: str | None = None
    push: bool = False
    remote: str = "origin"
    dry_run: bool = False
    actor: str | None = None
    delete: bool = False  # GTO's -d/--delete: delete the tags instead of writing a new one
    signing_key: Path | None = None  # an SSH private key file: every tag written is signed


def perform(repo: Path, request: WriteRequest) -> Outcome:
    """Plan on fresh state, check the promotion policy, create (signed, with a key) and
    (maybe) push."""
    _check_text(request)
    if request.signing_key is not None:
        signing.read_key(request.signing_key)  # a key git cannot use: refused before any tag
        signing.require_ssh_keygen()
    root = gitio.repo_root(repo)
    _check_checkout(root)
    load_config(root)  # reads warn about a broken .gto and go on; writes must not
    policy = load_policy(load_settings(root))
    must_sign: dict[str, str] = {}  # the plan's tags for signed stages, with the stage

    def on_branch(commit: str, branch: str) -> bool:
        refs = (f"refs/remotes/{request.remote}/{branch}", f"refs/heads/{branch}")
        return any(
            gitio.ref_value(root, ref) and gitio.is_ancestor(root, commit, ref) for ref in refs
        )

    def check(registry: Registry, plan: Plan) -> None:
        check_promotion(policy, registry.state, plan.tags, request.actor, on_branch, request.force)
        check_deletion(policy, plan.deletes, request.actor, on_branch)
        signed = check_signing(policy, registry.state, plan.tags, request.signing_key is not None)
        must_sign.clear()
        must_sign.update(signed)

    return apply(
        root,
        request.name,
        planner(request),
        check,
        push=request.push,
        remote=request.remote,
        dry_run=request.dry_run,
        sign_with=request.signing_key,
        vet=_signature_check(root, policy, must_sign),
    )


def _signature_check(root: Path, policy: PromotionPolicy, must_sign: dict[str, str]) -> Vet:
    """A signed tag for a signed stage must verify against the allowed signers here before it
    is pushed: one that dispatch would refuse would still hold the stage for GTO."""

    def vet(tag: NewTag) -> None:
        stage = must_sign.get(tag.name)
        if stage is None or policy.signers is None:
            return
        why = signing.refusal(root, tag.name, stage, policy.signers.path, policy.signers.shown)
        if why is not None:
            raise StagetagError(f"{why}; dispatch would not deploy it, so it was not kept")

    return vet


def _check_text(request: WriteRequest) -> None:
    """A tag message is UTF-8 text (as GTO reads it); bytes that are not (an argument or an
    environment variable the OS passed as is) are refused, not written."""
    try:
        (request.message or "").encode("utf-8")
    except UnicodeEncodeError as e:
        raise StagetagError(
            f"the message is not valid UTF-8 text (at character {e.start + 1}); "
            "give {flag} as UTF-8",
            flag=Option("message"),
        ) from None


def _check_checkout(root: Path) -> None:
    """`.gto` is read from the working tree (as GTO does); a clone whose tree lacks the file
    that HEAD has would let any stage through, so refuse to write from it."""
    head = gitio.head_commit(root)
    if (
        head
        and not (root / CONFIG_FILE).exists()
        and gitio.read_files_at(root, [head], CONFIG_FILE)
    ):
        raise StagetagError(
            f"{CONFIG_FILE} is in HEAD but not in the working tree at {root}; check the "
            "repository out (e.g. git checkout -- .gto) so its stage list applies"
        )


def _needs(request: WriteRequest, *fields: str) -> None:
    for field in fields:
        if not getattr(request, field):
            raise StagetagError(f"{request.command} needs a {field.replace('_', ' ')}")


def planner(request: WriteRequest) -> Callable[[Registry], Plan]:
    """The plan function for a request; it runs again on fresh state after a lost race."""
    r = request
    if r.delete and r.command not in ("unassign", "deregister", "deprecate"):
        raise StagetagError(
            f"{r.command} writes tags; {{delete}} is for unassign, deregister and deprecate",
            delete=Option("delete"),
        )

    def commit(registry: Registry) -> str:
        return gitio.resolve_commit(registry.root, r.ref or "HEAD")

    if r.command == "register":
        return lambda reg: plan_register(
            reg,
            r.name,
            commit(reg),
            version=r.version,
            bump_part=r.bump,
            message=r.message,
            simple=True if r.simple is None else r.simple,
            force=r.force,
        )
    if r.command == "assign":
        _needs(r, "stage")
        assert r.stage is not None
        stage = r.stage
        existing = r.version if r.ref is None else None
        return lambda reg: plan_assign(
            reg,
            r.name,
            stage,
            commit=None if existing else commit(reg),
            version=existing,
            new_version=r.version if r.ref is not None else None,
            message=r.message,
            simple=bool(r.simple),
            force=r.force,
            skip_registration=r.skip_registration,
        )
    if r.command == "unassign":
        _needs(r, "version", "stage")
        assert r.version is not None and r.stage is not None
        version, stage = r.version, r.stage
        if r.delete:
            return lambda reg: plan_delete_stage(reg, r.name, version, stage, force=r.force)
        return lambda reg: plan_unassign(
            reg, r.name, version, stage, message=r.message, simple=bool(r.simple), force=r.force
        )
    if r.command == "deregister":
        _needs(r, "version")
        assert r.version is not None
        version = r.version
        if r.delete:
            return lambda reg: plan_delete_version(reg, r.name, version)
        return lambda reg: plan_deregister(
            reg,
            r.name,
            version,
            message=r.message,
            simple=True if r.simple is None else r.simple,
            force=r.force,
        )
    if r.command == "deprecate":
        if r.delete:
            if r.ref is not None:
                raise StagetagError(
                    "{ref} says where a deprecation tag goes; {delete} writes none",
                    ref=Option("ref"),
                    delete=Option("delete"),
                )
            return lambda reg: plan_delete_artifact(reg, r.name, r.simple, force=r.force)
        return lambda reg: plan_deprecate(
            reg,
            r.name,
            commit(reg),
            message=r.message,
            simple=r.simple,
            force=r.force,
            at=None if r.ref is None else commit(reg),
        )
    _needs(r, "stage")
    assert r.stage is not None
    stage = r.stage
    return lambda reg: plan_rollback(reg, r.name, stage, to_version=r.to_version, message=r.message)
