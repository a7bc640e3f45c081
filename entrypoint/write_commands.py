"""Write commands, GTO-compatible in names, arguments and tags: `register`, `assign`,
`unassign`, `deregister`, `deprecate`, plus `rollback`. Shared flags and output live here."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from entrypoint.output import emit_json
from entrypoint.read_commands import repo_option
from stagetag import gitio
from stagetag.errors import StagetagError
from stagetag.events import Kind
from stagetag.policy import check_promotion, load_policy
from stagetag.publish import Outcome, apply
from stagetag.registry import Registry
from stagetag.settings import load_settings
from stagetag.writes import (
    Plan,
    plan_assign,
    plan_deprecate,
    plan_deregister,
    plan_register,
    plan_rollback,
    plan_unassign,
)

_DONE = {
    Kind.REGISTRATION: "registers version",
    Kind.DEREGISTRATION: "deregisters version",
    Kind.ASSIGNMENT: "assigns stage to version '{version}'",
    Kind.UNASSIGNMENT: "unassigns stage from version '{version}'",
    Kind.DEPRECATION: "deprecates artifact",
}
_ACTOR_VARIABLES = ("STAGETAG_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN")


def write_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The flags every write command shares."""
    options = [
        repo_option,
        click.option("-m", "--message", help="Tag message (default: GTO's message)."),
        click.option("--push", is_flag=True, help="Push the tags, safely against parallel runs."),
        click.option("--remote", default="origin", show_default=True, help="Remote to push to."),
        click.option("--dry-run", is_flag=True, help="Print the tags; create nothing."),
        click.option("--force", is_flag=True, help="Create the tag even if nothing changes."),
        click.option(
            "--simple",
            type=click.Choice(["auto", "true", "false"]),
            default="auto",
            show_default=True,
            help="'true': NAME#STAGE without the #N counter; 'auto': GTO's default per command.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON."),
        click.option(
            "--actor",
            default=lambda: next(
                (os.environ[v] for v in _ACTOR_VARIABLES if os.environ.get(v)), None
            ),
            help="Who asks, for protected stages [default: $GITHUB_ACTOR or $GITLAB_USER_LOGIN].",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def simple_flag(value: str, default: bool) -> bool:
    return default if value == "auto" else value == "true"


def run_write(
    repo: Path,
    planner: Callable[[Registry], Plan],
    push: bool,
    remote: str,
    dry_run: bool,
    force: bool,
    as_json: bool,
    actor: str | None,
) -> None:
    """Plan, check the promotion policy, create, push, report."""
    root = gitio.repo_root(repo)
    policy = load_policy(load_settings(root))

    def on_branch(commit: str, branch: str) -> bool:
        refs = (f"refs/remotes/{remote}/{branch}", f"refs/heads/{branch}")
        return any(
            gitio.ref_value(root, ref) and gitio.is_ancestor(root, commit, ref) for ref in refs
        )

    def check(registry: Registry, plan: Plan) -> None:
        check_promotion(policy, registry.state, plan.tags, actor, on_branch, force)

    outcome = apply(root, planner, check, push=push, remote=remote, dry_run=dry_run)
    report(outcome, remote, dry_run, as_json)


def report(outcome: Outcome, remote: str, dry_run: bool, as_json: bool) -> None:
    tags = outcome.plan.tags
    if as_json:
        last = tags[-1] if tags else None
        emit_json(
            {
                "tags": [t.name for t in outcome.created],
                "created": bool(outcome.created),
                "event": last.event.label if last else None,
                "name": last.artifact if last else None,
                "version": (last.version or None) if last else None,
                "stage": last.stage if last else None,
                "commit": last.target if last else None,
                "pushed": outcome.pushed,
                "reason": outcome.plan.noop,
            }
        )
        return
    if outcome.plan.noop:
        click.echo(f"Nothing to do: {outcome.plan.noop}")
        return
    for tag in tags:
        if dry_run:
            click.echo(f"Would create git tag '{tag.name}' on {tag.target[:7]}: {tag.message}")
            continue
        click.echo(
            f"Created git tag '{tag.name}' that {_DONE[tag.event].format(version=tag.version)}"
        )
        if outcome.pushed:
            click.echo(f"Pushed git tag '{tag.name}' to {remote}.")
    if not dry_run and not outcome.pushed:
        click.echo("To push the changes upstream, run:")
        names = " ".join(shlex.quote(t.name) for t in tags)
        click.echo(f"    git push {shlex.quote(remote)} {names}")


def _commit(registry: Registry, ref: str) -> str:
    return gitio.resolve_commit(registry.root, ref)


@click.command()
@click.argument("name")
@click.argument("ref", default="HEAD")
@click.option("--version", "--ver", "version", help="Version to register, e.g. v1.2.0.")
@click.option("--bump-major", is_flag=True, help="Bump the latest version's major part.")
@click.option("--bump-minor", is_flag=True, help="Bump the latest version's minor part.")
@click.option("--bump-patch", is_flag=True, help="Bump the latest version's patch part.")
@write_options
def register(
    name: str,
    ref: str,
    version: str | None,
    bump_major: bool,
    bump_minor: bool,
    bump_patch: bool,
    simple: str,
    message: str | None,
    force: bool,
    **common: Any,
) -> None:
    """Register a version of NAME at REF (default HEAD): --version, or the latest bumped.

    \b
      stagetag register churn --bump-minor --push
    """
    bumps = [
        p for p, on in [("major", bump_major), ("minor", bump_minor), ("patch", bump_patch)] if on
    ]
    if len(bumps) > 1:
        raise StagetagError("give at most one --bump-* flag")
    run_write(
        planner=lambda r: plan_register(
            r,
            name,
            _commit(r, ref),
            version=version,
            bump_part=bumps[0] if bumps else None,
            message=message,
            simple=simple_flag(simple, True),
            force=force,
        ),
        force=force,
        **common,
    )


@click.command()
@click.argument("name")
@click.argument("ref", required=False)
@click.option("--stage", required=True, help="Stage to assign.")
@click.option(
    "--version",
    "--ver",
    "version",
    help="With REF: the version to register there. Without: an existing version.",
)
@click.option(
    "--sr",
    "--skip-registration",
    "skip_registration",
    is_flag=True,
    help="Assign an unregistered commit without registering it.",
)
@write_options
def assign(
    name: str,
    ref: str | None,
    stage: str,
    version: str | None,
    skip_registration: bool,
    simple: str,
    message: str | None,
    force: bool,
    **common: Any,
) -> None:
    """Assign STAGE to a version of NAME: the one at REF (default HEAD), registering it first
    if needed, or an existing --version.

    \b
      stagetag assign churn --version v1.2.0 --stage prod --push
    """
    existing = version if ref is None else None
    new = version if ref is not None else None
    run_write(
        planner=lambda r: plan_assign(
            r,
            name,
            stage,
            commit=None if existing else _commit(r, ref or "HEAD"),
            version=existing,
            new_version=new,
            message=message,
            simple=simple_flag(simple, False),
            force=force,
            skip_registration=skip_registration,
        ),
        force=force,
        **common,
    )


@click.command()
@click.argument("name")
@click.argument("version")
@click.option("--stage", required=True, help="Stage to take from the version.")
@write_options
def unassign(
    name: str,
    version: str,
    stage: str,
    simple: str,
    message: str | None,
    force: bool,
    **common: Any,
) -> None:
    """Take STAGE from VERSION of NAME (the previous holder then holds it, as in GTO).

    \b
      stagetag unassign churn v1.2.0 --stage prod --push
    """
    run_write(
        planner=lambda r: plan_unassign(
            r,
            name,
            version,
            stage,
            message=message,
            simple=simple_flag(simple, False),
            force=force,
        ),
        force=force,
        **common,
    )


@click.command()
@click.argument("name")
@click.argument("version")
@write_options
def deregister(
    name: str, version: str, simple: str, message: str | None, force: bool, **common: Any
) -> None:
    """Deregister VERSION of NAME.

    \b
      stagetag deregister churn v1.2.0 --push
    """
    run_write(
        planner=lambda r: plan_deregister(
            r, name, version, message=message, simple=simple_flag(simple, True), force=force
        ),
        force=force,
        **common,
    )


@click.command()
@click.argument("name")
@click.argument("version", required=False)
@click.argument("stage", required=False)
@write_options
def deprecate(
    name: str,
    version: str | None,
    stage: str | None,
    simple: str,
    message: str | None,
    force: bool,
    **common: Any,
) -> None:
    """Deprecate NAME. As in GTO, `deprecate NAME VERSION` deregisters a version and
    `deprecate NAME VERSION STAGE` unassigns a stage.

    \b
      stagetag deprecate churn --push
    """
    if version and stage:
        planner: Callable[[Registry], Plan] = lambda r: plan_unassign(  # noqa: E731
            r,
            name,
            version,
            stage,
            message=message,
            simple=simple_flag(simple, False),
            force=force,
        )
    elif version:
        planner = lambda r: plan_deregister(  # noqa: E731
            r, name, version, message=message, simple=simple_flag(simple, True), force=force
        )
    else:
        planner = lambda r: plan_deprecate(  # noqa: E731
            r,
            name,
            _commit(r, "HEAD") if r.state.artifacts.get(name) is None else "",
            message=message,
            simple=None if simple == "auto" else simple == "true",
            force=force,
        )
    run_write(planner=planner, force=force, **common)


@click.command()
@click.argument("name")
@click.option("--stage", required=True, help="Stage to roll back.")
@click.option("--to", "to_version", help="Version to give the stage to (default: the previous).")
@write_options
def rollback(
    name: str,
    stage: str,
    to_version: str | None,
    simple: str,
    message: str | None,
    force: bool,
    **common: Any,
) -> None:
    """Give STAGE of NAME back to the previous holder (or --to VERSION) in one step.

    The current holder is unassigned, so it does not come back later; with --to, that
    version is assigned too.

    \b
      stagetag rollback churn --stage prod --push
    """
    del simple  # rollback always writes numbered tags
    run_write(
        planner=lambda r: plan_rollback(r, name, stage, to_version=to_version, message=message),
        force=force,
        **common,
    )


WRITE_COMMANDS = (register, assign, unassign, deregister, deprecate, rollback)
