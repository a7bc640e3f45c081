"""Markdown views of the registry, for job summaries and merge request notes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stagetag.views import Record, short


def cell(text: Any) -> str:
    """Any value as one inert table cell: no HTML, no table breaks, no code spans."""
    if text is None or text == "":
        return "—"
    escaped = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(escaped.replace("|", "\\|").replace("`", "\\`").split())


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
