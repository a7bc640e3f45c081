"""A model page's stage timelines: per stage, who held it from when to when, who assigned it
and why (stagetag.timeline), as rows a table shows without JavaScript, plus where each holding
sits on a bar for the model's whole history."""

from __future__ import annotations

from typing import NamedTuple

from markupsafe import Markup

from stagetag.presentation.cells import Cells, shown
from stagetag.timeline import Holding, duration


class HoldingRow(NamedTuple):
    """A holding's cells (stagetag.presentation.cells); the template unpacks the fields in
    this order."""

    version: Markup
    since: Markup
    until: Markup | None  # None: it still holds the stage
    held: Markup  # empty while it still holds the stage
    author: Markup
    assignment: Markup
    started_by: Markup | None  # the tag that made it the holder, where that was not its assignment
    ended_by: Markup | None
    message: Markup
    left: float  # on the bar, in percent of the model's history
    width: float


class StageTimeline(NamedTuple):
    stage: str
    rows: list[HoldingRow]  # newest first
    start: str  # the bar's ends: the model's first and last change of a stage
    end: str


def stage_timelines(
    holdings: dict[str, list[Holding]], stages: list[str], cells: Cells
) -> list[StageTimeline]:
    """The stages in `stages`' order, then the others the model ever had; all on one axis."""
    every = [h for held in holdings.values() for h in held]
    if not every:
        return []
    first = min((h.since for h in every), key=lambda s: s.epoch)
    last = max((s for h in every for s in (h.since, h.until) if s), key=lambda s: s.epoch)
    span = max(last.epoch - first.epoch, 1)

    def row(holding: Holding) -> HoldingRow:
        end = holding.until or last
        started_by, ended_by = holding.started_by, holding.ended_by
        return HoldingRow(
            cells.version(holding.version),
            cells.time(holding.since),
            cells.time(holding.until) if holding.until else None,
            Markup(duration(holding.seconds)),  # digits and units
            cells.text(holding.assignment.author),
            cells.tag(holding.assignment.ref),
            None if started_by == holding.assignment else cells.tag(started_by.ref),
            cells.tag(ended_by.ref) if ended_by else None,
            cells.text(holding.assignment.message),
            round(100 * (holding.since.epoch - first.epoch) / span, 2),
            max(round(100 * (end.epoch - holding.since.epoch) / span, 2), 0.5),
        )

    order = [s for s in stages if s in holdings] + sorted(set(holdings) - set(stages))
    return [
        StageTimeline(stage, [row(h) for h in reversed(holdings[stage])], shown(first), shown(last))
        for stage in order
        if holdings[stage]
    ]
