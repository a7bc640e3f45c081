"""Values the dashboard's templates show: links and times."""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

from stagetag.events import isoformat
from stagetag.gitio import Stamp


class Link(NamedTuple):
    text: str
    url: str | None


class When(NamedTuple):
    iso: str  # ISO 8601, in the tagger's offset, for <time datetime>
    shown: str  # the same, easier to read


@cache  # a page shows a tag's time in its history, its version and its stage's timeline
def when(stamp: Stamp) -> When:
    iso = isoformat(stamp)
    return When(iso, iso.replace("T", " "))
