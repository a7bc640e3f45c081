"""`--at TIME`: the instant a read looks back to, and which tags the registry had by then.

GTO orders events by their tagger time in whole seconds, and within one second by tag name,
which says nothing about which tag came first. So an instant means a whole second, and the
registry at that second holds every tag made in it: the registry "as it stood at T" is GTO's
reading of the tags whose tagger time is at or before T, truncated to the second. That is
what `gto show` prints on a clone with the later tags deleted (HEAD, `.gto` and the
annotations at HEAD are today's, as in that clone).

An instant is written as an ISO 8601 date (its midnight), a date and time (without an offset:
the local time zone, as git reads dates), or a commit or tag: a tag object's tagger time, a
commit's committer time (when it entered history as it is).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from stagetag import gitio
from stagetag.errors import StagetagError
from stagetag.gitio import TagRecord

_ISO = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
    r"(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)
_FORMS = "a date (2024-02-01), a date and time (2024-02-01T14:00, 2024-02-01 14:00:00+02:00)"


def parse_instant(root: Path, text: str) -> int:
    """The instant `text` names, as seconds since the epoch (a fraction of a second is cut
    off, as GTO cuts off tag times); a commit or tag is looked up in the repository at `root`."""
    match = _ISO.fullmatch(text.strip())
    if match is not None:
        return _iso_epoch(text, match)
    if not text or not text.isprintable():
        raise StagetagError(f"--at {text!r}: expected {_FORMS}, or a commit or tag")
    found = gitio.read_objects(root, [text]).get(text)
    if found is None:
        raise StagetagError(f"--at {text!r}: not {_FORMS}, nor a commit or tag of this repository")
    if found.kind == "commit":
        return gitio.commit_info(found).committed_at.epoch
    if found.kind == "tag":
        tag = gitio.parse_tag_object(text, found.data)
        if tag.stamp is None:
            raise StagetagError(f"--at {text!r}: its tag object is unreadable ({tag.problem})")
        return tag.stamp.epoch
    raise StagetagError(f"--at {text!r}: names a {found.kind}, not a commit or tag")


def _iso_epoch(text: str, match: re.Match[str]) -> int:
    zone = match["zone"]
    try:
        moment = datetime.fromisoformat(
            f"{match['date']}T{match['hour'] or '00'}:{match['minute'] or '00'}"
            f":{match['second'] or '00'}"
        )
    except ValueError as e:
        raise StagetagError(f"--at {text!r}: not a valid date or time ({e})") from None
    if zone is None:
        return int(moment.astimezone().timestamp())  # naive: the local time zone
    if zone in "Zz":
        return int(moment.replace(tzinfo=timezone.utc).timestamp())
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise StagetagError(f"--at {text!r}: {zone} is not a UTC offset")
    offset = timedelta(hours=hours, minutes=minutes) * (-1 if zone[0] == "-" else 1)
    return int(moment.replace(tzinfo=timezone(offset)).timestamp())


def made_by(epoch: int) -> Callable[[TagRecord], bool]:
    """Keeps the tags made at or before `epoch` (the whole second). Tags without a readable
    tagger time (lightweight ones, which are no events, and unreadable objects, which are
    reported) are kept: they have no time to compare."""

    def keep(tag: TagRecord) -> bool:
        return tag.stamp is None or tag.stamp.epoch <= epoch

    return keep
