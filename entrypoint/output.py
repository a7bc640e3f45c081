"""Everything the CLI prints goes through here: JSON, plain lines, tables and warnings."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import click

from stagetag.text import printable, shown


def emit_json(value: Any) -> None:
    """JSON exactly as GTO prints it: 4-space indent, ASCII-escaped, one trailing newline."""
    click.echo(json.dumps(value, indent=4))


def emit_json_list(items: Iterable[Any]) -> None:
    """`emit_json(list(items))`, written as the items come: a long list (every event of a
    registry) is never held whole, neither as values nor as text."""
    _emit_nested("[", "]", (_nested(item) for item in items))


def emit_json_object(entries: Iterable[tuple[str, Any]]) -> None:
    """`emit_json(dict(entries))` (keys unique), written as the entries come."""
    _emit_nested("{", "}", (f"{json.dumps(key)}: {_nested(value)}" for key, value in entries))


_BATCH = 512  # items per write


def _emit_nested(opening: str, closing: str, parts: Iterator[str]) -> None:
    """What `json.dumps(..., indent=4)` writes for a list or object of these parts."""
    out = sys.stdout
    batch = list(islice(parts, _BATCH))
    if not batch:
        out.write(f"{opening}{closing}\n")
        return
    out.write(f"{opening}\n    ")
    while batch:
        out.write(",\n    ".join(batch))
        batch = list(islice(parts, _BATCH))
        if batch:
            out.write(",\n    ")
    out.write(f"\n{closing}\n")
    out.flush()


# A flat record (scalars only) one level down, by json's C encoder: each item on a line of its
# own, as the indenting encoder (pure Python, several times slower) writes it.
_FLAT = json.JSONEncoder(separators=(",\n        ", ": ")).encode
_SCALARS = frozenset((str, int, float, bool, type(None)))


def _nested(value: Any) -> str:
    """`value` as `json.dumps(..., indent=4)` writes it inside a list or an object."""
    if type(value) is dict and value and all(type(v) in _SCALARS for v in value.values()):
        return "{\n        " + _FLAT(value)[1:-1] + "\n    }"
    return json.dumps(value, indent=4).replace("\n", "\n    ")


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
