"""Write commands, GTO-compatible in names, arguments and tags: `register`, `assign`,
`unassign`, `deregister`, `deprecate`, plus `rollback`. Each builds a WriteRequest."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from stagetag.commands import WriteRequest, perform
from stagetag.entrypoint.output import emit_json
from stagetag.entrypoint.read_commands import repo_option
from stagetag.errors import StagetagError
from stagetag.events import Kind
from stagetag.publish import Outcome
from stagetag.text import redact

_DONE = {
    Kind.REGISTRATION: "registers version",
    Kind.DEREGISTRATION: "deregisters version",
    Kind.ASSIGNMENT: "assigns stage to version '{version}'",
    Kind.UNASSIGNMENT: "unassigns stage from version '{version}'",
    Kind.DEPRECATION: "deprecates artifact",
}
ACTOR_VARIABLES = ("STAGETAG_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN")


def default_actor() -> str | None:
    return next((os.environ[v] for v in ACTOR_VARIABLES if os.environ.get(v)), None)


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
            help="'true': no #N counter (e.g. NAME#STAGE); 'auto': GTO's default per command.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON."),
        click.option(
            "--actor",
            default=default_actor,
            help="Who asks, for protected stages [default: $GITHUB_ACTOR or $GITLAB_USER_LOGIN].",
        ),
        click.option(
            "--sign-with",
            "signing_key",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Sign the tags with this SSH private key file (stages with `signed: true`).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


delete_option = click.option(
    "-d",
    "--delete",
    is_flag=True,
    help="Delete the git tag(s) instead of creating a new one (GTO's flag); with --push also "
    "on the remote, only where each still is what this run saw.",
)


def outcome_record(outcome: Outcome, dry_run: bool = False) -> dict[str, Any]:
    """What a write did (or, in a dry run, would do), for `--json` and the action's outputs."""
    last = outcome.plan.tags[-1] if outcome.plan.tags else None
    tags = outcome.plan.tags if dry_run else outcome.created
    deleted = outcome.plan.deletes if dry_run else outcome.deleted
    leftovers = {
        "recovered": [t.name for t in outcome.recovered],
        "dropped": [t.name for t in outcome.dropped],
        "ignored": list(outcome.ignored),
    }
    if last is None and outcome.plan.deletes:
        gone = outcome.plan.deletes[-1]
        return leftovers | {
            "tags": [],
            "created": False,
            "event": None,
            "name": gone.artifact,
            "version": None,
            "stage": None,
            "commit": None,
            "pushed": outcome.pushed,
            "reason": None,
            "deleted": [t.name for t in deleted],
        }
    return leftovers | {
        "tags": [t.name for t in tags],
        "created": bool(outcome.created),
        "event": last.event.label if last else None,
        "name": last.artifact if last else None,
        "version": (last.version or None) if last else None,
        "stage": last.stage if last else None,
        "commit": last.target if last else None,
        "pushed": outcome.pushed,
        "reason": outcome.plan.noop,
    }


def _run(repo: Path, as_json: bool, **fields: Any) -> None:
    simple = fields.pop("simple")
    request = WriteRequest(simple=None if simple == "auto" else simple == "true", **fields)
    outcome = perform(repo, request)
    _warn_ignored(outcome, request)
    if as_json:
        emit_json(outcome_record(outcome, request.dry_run))
        return
    _report_leftovers(outcome, request)
    if outcome.plan.noop:
        click.echo(f"Nothing to do: {outcome.plan.noop}")
        return
    if outcome.plan.deletes:
        _report_deletion(outcome, request)
        return
    for tag in outcome.plan.tags:
        if request.dry_run:
            click.echo(f"Would create git tag '{tag.name}' on {tag.target[:7]}: {tag.message}")
            continue
        done = _DONE[tag.event].format(version=tag.version)
        click.echo(f"Created git tag '{tag.name}' that {done}")
        if outcome.pushed:
            click.echo(f"Pushed git tag '{tag.name}' to {redact(request.remote)}.")
    if outcome.created and not outcome.pushed:
        click.echo("To push the changes upstream, run:")
        names = " ".join(shlex.quote(t.name) for t in outcome.created)
        click.echo(f"    git push {shlex.quote(request.remote)} {names}")


def _warn_ignored(outcome: Outcome, request: WriteRequest) -> None:
    """Local tags the remote lacks that no run here made: never pushed, left out of the plan."""
    for name in outcome.ignored:
        click.echo(
            f"stagetag: warning: local tag '{name}' is not on {redact(request.remote)!r} and "
            "no stagetag run here made it (made by hand, or deleted there); it is left out: "
            "push or delete it yourself",
            err=True,
        )


def _report_leftovers(outcome: Outcome, request: WriteRequest) -> None:
    """What was done first with the tags an earlier run left here and the remote lacked."""
    remote = redact(request.remote)
    for gone in outcome.dropped:
        click.echo(
            f"{'Would drop' if request.dry_run else 'Dropped'} local tag '{gone.name}': "
            f"{remote!r} took its place first (git tag -f {shlex.quote(gone.name)} "
            f"{gone.tag_object} restores it)"
        )
    for tag in outcome.recovered:
        verb = "Would push" if request.dry_run else "Pushed"
        click.echo(f"{verb} git tag '{tag.name}' to {remote}, left here by an earlier run.")


def _report_deletion(outcome: Outcome, request: WriteRequest) -> None:
    remote = shlex.quote(request.remote)
    for tag in outcome.plan.deletes:
        click.echo(f"{'Would delete' if request.dry_run else 'Deleted'} git tag '{tag.name}'")
    if request.dry_run:
        return
    if outcome.pushed:
        click.echo(f"Pushed the deletion to {redact(request.remote)}.")
        return
    click.echo("To push the changes upstream, run:")
    names = " ".join(shlex.quote(t.name) for t in outcome.deleted)
    click.echo(f"    git push --delete {remote} {names}")


@click.command()
@click.argument("name")
@click.argument("ref", default="HEAD")
@click.option("--version", "--ver", "version", help="Version to register, e.g. v1.2.0.")
@click.option("--bump-major", is_flag=True, help="Bump the latest version's major part.")
@click.option("--bump-minor", is_flag=True, help="Bump the latest version's minor part.")
@click.option("--bump-patch", is_flag=True, help="Bump the latest version's patch part.")
@write_options
def register(
    repo: Path, as_json: bool, bump_major: bool, bump_minor: bool, bump_patch: bool, **fields: Any
) -> None:
    """Register a version of NAME at REF (default HEAD): --version, or the latest bumped.

    \b
      stagetag register churn --bump-minor --push
    """
    bumps = [
        p for p, on in (("major", bump_major), ("minor", bump_minor), ("patch", bump_patch)) if on
    ]
    if len(bumps) > 1:
        raise StagetagError("give at most one --bump-* flag")
    _run(repo, as_json, command="register", bump=bumps[0] if bumps else None, **fields)


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
def assign(repo: Path, as_json: bool, **fields: Any) -> None:
    """Assign STAGE to a version of NAME: the one at REF (default HEAD), registering it first
    if needed, or an existing --version.

    \b
      stagetag assign churn --version v1.2.0 --stage prod --push
    """
    _run(repo, as_json, command="assign", **fields)


@click.command()
@click.argument("name")
@click.argument("version")
@click.option("--stage", required=True, help="Stage to take from the version.")
@delete_option
@write_options
def unassign(repo: Path, as_json: bool, **fields: Any) -> None:
    """Take STAGE from VERSION of NAME (the previous holder then holds it, as in GTO).
    With --delete, delete the version's tags for STAGE instead.

    \b
      stagetag unassign churn v1.2.0 --stage prod --push
    """
    _run(repo, as_json, command="unassign", **fields)


@click.command()
@click.argument("name")
@click.argument("version")
@delete_option
@write_options
def deregister(repo: Path, as_json: bool, **fields: Any) -> None:
    """Deregister VERSION of NAME. With --delete, delete every tag of the version instead.

    \b
      stagetag deregister churn v1.2.0 --push
    """
    _run(repo, as_json, command="deregister", **fields)


@click.command()
@click.argument("name")
@click.argument("version", required=False)
@click.argument("stage", required=False)
@click.option("--ref", help="Commit for the deprecation tag (default: the newest event's).")
@delete_option
@write_options
def deprecate(
    repo: Path,
    as_json: bool,
    version: str | None,
    stage: str | None,
    ref: str | None,
    **fields: Any,
) -> None:
    """Deprecate NAME. As in GTO, `deprecate NAME VERSION` deregisters a version and
    `deprecate NAME VERSION STAGE` unassigns a stage; --delete deletes the tags instead.

    \b
      stagetag deprecate churn --push
      stagetag deprecate churn v1.2.0 prod --delete
    """
    command = "unassign" if stage else "deregister" if version else "deprecate"
    if ref is not None and command != "deprecate":
        raise StagetagError(
            "--ref says where a deprecation tag goes; `deprecate NAME VERSION [STAGE]` "
            "writes none there (GTO ignores it)"
        )
    _run(repo, as_json, command=command, version=version, stage=stage, ref=ref, **fields)


@click.command()
@click.argument("name")
@click.option("--stage", required=True, help="Stage to roll back.")
@click.option("--to", "to_version", help="Version to give the stage to (default: the previous).")
@write_options
def rollback(repo: Path, as_json: bool, **fields: Any) -> None:
    """Give STAGE of NAME back to the previous holder (or --to VERSION) in one step.

    The current holder is unassigned, so it does not come back later; with --to, that
    version is assigned too.

    \b
      stagetag rollback churn --stage prod --push
    """
    _run(repo, as_json, command="rollback", **fields)
