"""Registry events: what one tag (or one version's commit) says happened."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from enum import Enum
from functools import cache
from typing import Any, NamedTuple

from stagetag.gitio import Stamp


class Kind(Enum):
    """An event kind with GTO's priority (the tie-breaker in history) and addition flag."""

    COMMIT = ("commit", 0, True)
    DEPRECATION = ("deprecation", 2, False)
    REGISTRATION = ("registration", 3, True)
    DEREGISTRATION = ("deregistration", 4, False)
    ASSIGNMENT = ("assignment", 5, True)
    UNASSIGNMENT = ("unassignment", 6, False)

    # Members are singletons: hash them by identity, in C (an event's hash includes its kind).
    __hash__ = object.__hash__

    def __init__(self, label: str, priority: int, addition: bool) -> None:
        self.label = label
        self.priority = priority
        self.addition = addition


class Event(NamedTuple):
    kind: Kind
    artifact: str
    created_at: Stamp
    author: str
    author_email: str
    message: str
    commit_hexsha: str
    tag: str | None = None  # None only for COMMIT events
    version: str | None = None
    stage: str | None = None
    # COMMIT events only: who committed, and the artifact's annotations at that commit.
    committer: str = ""
    committer_email: str = ""
    enrichments: tuple[Any, ...] = ()

    @property
    def ref(self) -> str:
        return self.tag if self.tag is not None else self.commit_hexsha

    def describe(self) -> str:
        """One sentence, in GTO's words."""
        what = {
            Kind.COMMIT: f'Artifact "{self.artifact}" is annotated',
            Kind.DEPRECATION: f'Artifact "{self.artifact}" was deprecated',
            Kind.REGISTRATION: f'Version "{self.version}" of artifact "{self.artifact}" '
            "was registered",
            Kind.DEREGISTRATION: f'Version "{self.version}" of artifact "{self.artifact}" '
            "was deregistered",
            Kind.ASSIGNMENT: f'Stage "{self.stage}" was assigned to version "{self.version}" '
            f'of artifact "{self.artifact}"',
            Kind.UNASSIGNMENT: f'Stage "{self.stage}" was unassigned from version '
            f'"{self.version}" of artifact "{self.artifact}"',
        }
        return what[self.kind]


def isoformat(stamp: Stamp) -> str:
    """ISO 8601 in the tagger's own offset, as Python's `datetime.isoformat()` writes it."""
    return datetime.fromtimestamp(stamp.epoch, _zone(stamp.offset_minutes)).isoformat()


@cache  # a few offsets, many tags: making the zone was a third of the time
def _zone(offset_minutes: int) -> timezone:
    return timezone(timedelta(minutes=offset_minutes))
