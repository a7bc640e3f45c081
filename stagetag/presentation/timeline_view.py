"""A model page's stage timelines: per stage, who held it from when to when, who assigned it
and why (stagetag.timeline), as rows a table shows without JavaScript, plus where each holding
sits on a bar for the model's whole history."""

from __future__ import annotations

from typing import NamedTuple

from stagetag.events import Event
from stagetag.hosting import Hosting
from stagetag.presentation.cells import Link, When, when
from stagetag.timeline import Holding, duration
from stagetag.views import short


class HoldingRow(NamedTuple):
    version: str
    since: When
    until: When | None  # None: it still holds the stage
    held: str
    author: str
    assignment: Link
    started_by: Link | None  # the tag that made it the holder, where that was not its assignment
    ended_by: Link | None
    message: str
    left: float  # on the bar, in percent of the model's history
    width: float


class StageTimeline(NamedTuple):
    stage: str
    rows: list[HoldingRow]  # newest first
    start: When  # the bar's ends: the model's first and last change of a stage
    end: When


def stage_timelines(
    holdings: dict[str, list[Holding]], stages: list[str], hosting: Hosting | None
) -> list[StageTimeline]:
    """The stages in `stages`' order, then the others the model ever had; all on one axis."""
    every = [h for held in holdings.values() for h in held]
    if not every:
        return []
    first = min((h.since for h in every), key=lambda s: s.epoch)
    last = max((s for h in every for s in (h.since, h.until) if s), key=lambda s: s.epoch)
    span = max(last.epoch - first.epoch, 1)

    def link(event: Event) -> Link:
        return Link(event.ref, hosting.tag_url(event.ref) if hosting else None)

    def row(holding: Holding) -> HoldingRow:
        end = holding.until or last
        return HoldingRow(
            short(holding.version),
            when(holding.since),
            when(holding.until) if holding.until else None,
            duration(holding.seconds),
            holding.assignment.author,
            link(holding.assignment),
            None if holding.started_by == holding.assignment else link(holding.started_by),
            link(holding.ended_by) if holding.ended_by else None,
            holding.assignment.message,
            round(100 * (holding.since.epoch - first.epoch) / span, 2),
            max(round(100 * (end.epoch - holding.since.epoch) / span, 2), 0.5),
        )

    order = [s for s in stages if s in holdings] + sorted(set(holdings) - set(stages))
    return [
        StageTimeline(stage, [row(h) for h in reversed(holdings[stage])], when(first), when(last))
        for stage in order
        if holdings[stage]
    ]
