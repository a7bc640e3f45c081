"""Read commands, GTO-compatible: `show`, `history`, `check-ref` and `stages`.

Machine output (`--json` and the one-value flags) is byte-identical to GTO 1.10.1's; the
tables are stagetag's own and never truncate a version.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from stagetag.entrypoint.output import (
    emit_json,
    emit_json_list,
    emit_json_object,
    emit_lines,
    emit_table,
    warn,
)
from stagetag.errors import StagetagError
from stagetag.grammar import parse_shortcut
from stagetag.instants import made_by, parse_instant
from stagetag.presentation.markdown import artifact_markdown, history_markdown, registry_markdown
from stagetag.registry import Registry, load_registry
from stagetag.sources import opened
from stagetag.views import (
    ShowOptions,
    artifact_view,
    check_ref_events,
    event_record,
    history_view,
    ref_artifacts,
    registry_entries,
    registry_view,
    short,
    shown_stages,
)

EMPTY = "Nothing found in the current workspace"


def repo_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-r",
        "--repo",
        type=click.Path(path_type=Path),
        default=Path("."),
        show_default=True,
        help="Repository to read.",
    )(command)


def source_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """`-r/--repo` of the read commands: a path (a work tree or a bare repository) or a URL,
    kept as text (a `Path` would fold `https://` into `https:/`)."""
    return click.option(
        "-r",
        "--repo",
        default=".",
        show_default=True,
        metavar="PATH|URL",
        help="Repository to read: a work tree, a bare repository, or a URL "
        "(fetched into a cache, tags and the files needed only).",
    )(command)


def open_registry(
    repo: str | Path,
    with_commits: bool,
    annotate: frozenset[str] = frozenset(),
    artifacts: frozenset[str] | None = None,
    at: str | None = None,
) -> Registry:
    """The registry at `repo` (only `artifacts`, when given, see `load_registry`; with `at`,
    as it stood then: stagetag.instants). A URL's cache stays locked for reading, and git
    reaches its remote, until the command ends (the dashboard reads more of it afterwards)."""
    root = click.get_current_context().with_resource(opened(repo))
    keep = None if at is None else made_by(parse_instant(root, at))
    registry = load_registry(
        root, with_commits=with_commits, annotate=annotate, artifacts=artifacts, keep=keep
    )
    for problem in registry.problems:
        warn(problem)
    return registry


def output_formats(command: Callable[..., Any]) -> Callable[..., Any]:
    """--json, --plain and --md, shared by the commands that print tables."""
    for option in (
        click.option("--md", "as_markdown", is_flag=True, help="Print a Markdown table."),
        click.option("--plain", is_flag=True, help="Print the table (the default)."),
        click.option("--json", "as_json", is_flag=True, help="Print GTO-compatible JSON."),
    ):
        command = option(command)
    return command


def one_output(**flags: bool) -> None:
    chosen = [f"--{name.replace('_', '-')}" for name, on in flags.items() if on]
    if len(chosen) > 1:
        raise StagetagError(f"{' and '.join(chosen)} cannot be used together; pick one")


@click.command()
@source_option
@click.argument("name", required=False)
@output_formats
@click.option("--name", "show_name", is_flag=True, help="Print only artifact names.")
@click.option("--version", "show_version", is_flag=True, help="Print only versions.")
@click.option("--stage", "show_stage", is_flag=True, help="Print only stages.")
@click.option("--ref", "show_ref", is_flag=True, help="Print only the registration tags.")
@click.option(
    "--ro",
    "--registered-only",
    "registered_only",
    is_flag=True,
    help="Leave out SHA pseudo-versions (stage tags on unregistered commits).",
)
@click.option("-d", "--deprecated", is_flag=True, help="Include deprecated artifacts.")
@click.option(
    "--av",
    "--assignments-per-version",
    "assignments_per_version",
    type=int,
    default=-1,
    show_default=True,
    help="Keep the N oldest active stages per version.",
)
@click.option(
    "--vs",
    "--versions-per-stage",
    "versions_per_stage",
    type=int,
    default=1,
    show_default=True,
    help="Show N holders per stage (-1: all).",
)
@click.option(
    "--sort",
    type=click.Choice(["timestamp", "semver"]),
    default="timestamp",
    show_default=True,
    help="Which holder wins a stage: the latest assigned or greatest.",
)
@click.option(
    "--at",
    metavar="TIME|REF",
    help="The registry as it stood then: every tag made by that second. An ISO date or "
    "date-time (local time unless it has an offset), or a commit (its committer date) or tag "
    "(its tagger date).",
)
def show(
    repo: str,
    name: str | None,
    as_json: bool,
    plain: bool,
    as_markdown: bool,
    show_name: bool,
    show_version: bool,
    show_stage: bool,
    show_ref: bool,
    registered_only: bool,
    deprecated: bool,
    assignments_per_version: int,
    versions_per_stage: int,
    sort: str,
    at: str | None,
) -> None:
    """Show the registry, an artifact's versions, or what holds a stage.

    NAME may be `model`, `model@v1.2.0`, `model@latest` or `model#prod`.

    \b
      stagetag show                      # every artifact, latest version, stage holders
      stagetag show churn#prod --version # the version churn has in prod
      stagetag show --at 2024-02-06T14:00 # the registry as it stood then
    """
    one_output(
        json=as_json,
        plain=plain,
        md=as_markdown,
        name=show_name,
        version=show_version,
        stage=show_stage,
        ref=show_ref,
    )
    options = ShowOptions(
        registered_only=registered_only,
        deprecated=deprecated,
        assignments_per_version=assignments_per_version,
        versions_per_stage=versions_per_stage,
        sort="semver" if sort == "semver" else "timestamp",
    )
    field = next(
        (
            f
            for f, on in [
                ("name", show_name),
                ("version", show_version),
                ("stage", show_stage),
                ("ref", show_ref),
            ]
            if on
        ),
        None,
    )
    shortcut = parse_shortcut(name) if name else None
    scope = frozenset([shortcut.name]) if shortcut else None
    annotate = scope if scope and as_json else frozenset()
    registry = open_registry(repo, with_commits=True, annotate=annotate, artifacts=scope, at=at)
    if as_markdown:
        click.echo(
            registry_markdown(registry_view(registry, options), shown_stages(registry))
            if shortcut is None
            else artifact_markdown(artifact_view(registry, shortcut, options)),
            nl=False,
        )
    elif shortcut is None:
        _show_registry(registry, options, as_json, field)
    else:
        _show_artifact(
            registry, shortcut.name, artifact_view(registry, shortcut, options), as_json, field
        )


def _show_registry(
    registry: Registry, options: ShowOptions, as_json: bool, field: str | None
) -> None:
    if as_json:
        emit_json_object(registry_entries(registry, options))
        return
    view = registry_view(registry, options)
    names = sorted(view)
    if field and names and field != "name":
        raise StagetagError(f"--{field} needs an artifact: `stagetag show NAME --{field}`")
    labels = [n if view[n]["registered"] else f"*{n}" for n in names]
    if field:
        emit_lines(labels)
        return
    stages = shown_stages(registry)
    rows = [
        [label, view[n]["version"], *view[n]["stage"].values()]
        for label, n in zip(labels, names, strict=True)
    ]
    emit_table(["name", "latest", *(f"#{s}" for s in stages)], rows, EMPTY)


def _show_artifact(
    registry: Registry, name: str, rows: list[dict[str, Any]], as_json: bool, field: str | None
) -> None:
    if as_json:
        emit_json_list(rows)
        return
    if any(len(row["registrations"]) > 1 for row in rows):
        raise StagetagError(
            f"a version of {name!r} is registered by more than one tag; "
            "use `stagetag show NAME --json` to see them"
        )
    registered = registry.state.artifacts[name].is_registered
    table = [
        {
            "name": row["artifact"] if registered else f"*{row['artifact']}",
            "version": short(row["version"]),
            "stage": ", ".join(dict.fromkeys(s["stage"] for s in row["stages"])),
            "created_at": row["created_at"],
            "ref": short(row["ref"]),
        }
        for row in rows
    ]
    if field:
        emit_lines(row[field] for row in table)
        return
    emit_table(
        ["name", "version", "stage", "created_at", "ref"],
        [list(row.values()) for row in table],
        EMPTY,
    )


@click.command()
@source_option
@click.argument("name", required=False)
@output_formats
@click.option("--asc", "--ascending", "ascending", is_flag=True, help="Oldest first.")
@click.option(
    "--stage",
    metavar="STAGE",
    help="Instead: each version that held STAGE of NAME, from when to when, and who assigned it.",
)
def history(
    repo: str,
    name: str | None,
    as_json: bool,
    plain: bool,
    as_markdown: bool,
    ascending: bool,
    stage: str | None,
) -> None:
    """Show every registry event, newest first.

    \b
      stagetag history churn --json
      stagetag history churn --stage prod   # who held prod, when, for how long
    """
    one_output(json=as_json, plain=plain, md=as_markdown)
    scope = None if name is None else frozenset([name])
    if stage is not None:
        from stagetag.entrypoint.stage_history import stage_history

        if not name:
            raise StagetagError("--stage needs an artifact: `stagetag history NAME --stage STAGE`")
        registry = open_registry(repo, with_commits=True, artifacts=scope)
        stage_history(registry, name, stage, as_json, as_markdown, ascending)
        return
    records = history_view(
        open_registry(repo, with_commits=False, artifacts=scope), name, ascending
    )
    if as_json:
        emit_json_list(records)
        return
    if as_markdown:
        click.echo(history_markdown(list(records)), nl=False)
        return
    keys = ["timestamp", "artifact", "event", "version", "stage", "commit", "ref"]
    rows = [
        [short(r[k]) if k in ("version", "commit", "ref") and r[k] else r[k] for k in keys]
        for r in records
    ]
    emit_table(keys, rows, EMPTY)


@click.command("check-ref")
@source_option
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True, help="Print GTO-compatible JSON.")
@click.option("--name", "show_name", is_flag=True, help="Print only the artifact name.")
@click.option("--version", "show_version", is_flag=True, help="Print only the version.")
@click.option("--stage", "show_stage", is_flag=True, help="Print only the stage.")
@click.option("--event", "show_event", is_flag=True, help="Print only the event kind.")
def check_ref(
    repo: str,
    ref: str,
    as_json: bool,
    show_name: bool,
    show_version: bool,
    show_stage: bool,
    show_event: bool,
) -> None:
    """Tell what a tag did; print nothing for anything that is not a GTO tag.

    \b
      stagetag check-ref refs/tags/churn#prod#3 --version
    """
    one_output(
        json=as_json, name=show_name, version=show_version, stage=show_stage, event=show_event
    )
    registry = open_registry(repo, with_commits=False, artifacts=ref_artifacts([ref]))
    events = check_ref_events(registry, ref)
    if len(events) > 1:
        raise StagetagError(f"{ref!r} created {len(events)} events; expected one")
    if not events:
        return
    event = events[0]
    if as_json:
        emit_json(event_record(event, internals=False))
    elif show_name:
        emit_lines([event.artifact])
    elif show_version:
        emit_lines([event.version] if event.version is not None else [])
    elif show_stage:
        emit_lines([event.stage] if event.stage is not None else [])
    elif show_event:
        emit_lines([event.kind.label])
    else:
        click.echo(event.describe())


@click.command()
@source_option
@click.option("--allowed", is_flag=True, help="Only the stages `.gto` allows (null if any).")
@click.option("--used", is_flag=True, help="Only the stages some version holds now.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stages(repo: str, allowed: bool, used: bool, as_json: bool) -> None:
    """List stages: those `.gto` allows, else those in use.

    \b
      stagetag stages --used
    """
    one_output(allowed=allowed, used=used)
    registry = open_registry(repo, with_commits=False)
    result: list[str] | None
    if allowed:
        result = None if registry.config.stages is None else list(registry.config.stages)
    elif used:
        result = registry.state.used_stages()
    else:
        result = shown_stages(registry)
    if as_json:
        emit_json(result)
    else:
        emit_lines(result or [])
