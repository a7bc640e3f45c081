"""`stagetag history NAME --stage STAGE`: each version that held the stage, from when to when,
how long, and the assignment behind it (stagetag.timeline)."""

from __future__ import annotations

import click

from stagetag.entrypoint.output import emit_json, emit_table
from stagetag.errors import StagetagError
from stagetag.presentation.markdown import table
from stagetag.registry import Registry
from stagetag.timeline import HOLDING_COLUMNS, Timelines, holding_record, holding_row
from stagetag.views import find_artifact


def stage_history(
    registry: Registry, name: str, stage: str, as_json: bool, as_markdown: bool, ascending: bool
) -> None:
    find_artifact(registry, name)
    holdings = Timelines(registry).of(name).get(stage, [])
    allowed = registry.config.stages
    if not holdings and allowed is not None and stage not in allowed:
        raise StagetagError(
            f"{stage!r} is not one of the stages .gto allows ({', '.join(allowed) or 'none'})"
        )
    records = [holding_record(h) for h in (holdings if ascending else holdings[::-1])]
    if as_json:
        emit_json(records)
        return
    rows = [holding_row(r) for r in records]
    if as_markdown:
        click.echo(table(HOLDING_COLUMNS, rows), nl=False)
    else:
        emit_table(HOLDING_COLUMNS, rows, f"No version of {name!r} has held {stage!r}")
