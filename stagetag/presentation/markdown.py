"""Markdown views of the registry, for job summaries and merge request notes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from stagetag.text import printable
from stagetag.views import Record, short

# What in tag data (a message, a description) could become a link, an image, emphasis, a
# code span or a table break; `://` is broken up so that no bare URL turns into a link.
_MARKUP = re.compile(r"([\\`*\[\]|~])")


def cell(text: Any) -> str:
    """Any value as one inert table cell: no HTML, no links or images (`[x](javascript:..)`,
    `![](https://tracker/..)`), no emphasis, no table breaks, no code spans; printable."""
    if text is None or text == "":
        return "—"
    one_line = printable(" ".join(str(text).split()))  # whitespace folds, the rest escapes
    escaped = one_line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKUP.sub(r"\\\1", escaped).replace("://", ":\\/\\/")


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return "_Nothing found._\n"
    lines = ["| " + " | ".join(cell(h) for h in header) + " |"]
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def registry_markdown(view: dict[str, Record], stages: Sequence[str]) -> str:
    rows = [
        [name if entry["registered"] else f"*{name}", entry["version"], *entry["stage"].values()]
        for name, entry in sorted(view.items())
    ]
    return table(["artifact", "latest", *stages], rows)


def artifact_markdown(rows: Sequence[Record]) -> str:
    return table(
        ["version", "stages", "created", "ref"],
        [
            [
                short(r["version"]),
                ", ".join(dict.fromkeys(s["stage"] for s in r["stages"])),
                r["created_at"],
                short(r["ref"]),
            ]
            for r in rows
        ],
    )


def history_markdown(records: Sequence[Record]) -> str:
    keys = ["timestamp", "artifact", "event", "version", "stage", "ref"]
    return table(keys, [[short(r[k]) if r[k] else r[k] for k in keys] for r in records])
