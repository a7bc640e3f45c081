"""Everything the CLI prints goes through here: JSON, plain lines, tables and warnings."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import click

from stagetag.text import printable, shown


def emit_json(value: Any) -> None:
    """JSON exactly as GTO prints it: 4-space indent, ASCII-escaped, one trailing newline."""
    click.echo(json.dumps(value, indent=4))


def emit_lines(values: Iterable[Any]) -> None:
    for value in values:
        click.echo(str(value).rstrip("\r\n"))


def emit_table(header: Sequence[str], rows: Sequence[Sequence[Any]], empty: str) -> None:
    """A plain aligned table; values are never truncated."""
    if not rows:
        click.echo(empty)
        return
    # values from tags and annotation files: a terminal escape sequence shows as text
    cells = [[str(h) for h in header]] + [
        ["-" if v is None else printable(str(v)) for v in r] for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for index, row in enumerate(cells):
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            click.echo("  ".join("-" * w for w in widths))


def warn(message: str) -> None:
    click.echo(f"stagetag: warning: {shown(message)}", err=True)
