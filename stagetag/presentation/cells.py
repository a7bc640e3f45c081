"""The values a model page's rows show, as escaped HTML. The templates print row fields with
autoescape off: every field is `Markup` (or a number), so mypy catches a raw string, and each
value is escaped once here rather than each time it is printed (a page has thousands of
rows, and Jinja's escaping of every printed value was most of a page's time)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from markupsafe import Markup, escape

from stagetag.events import isoformat
from stagetag.gitio import Stamp
from stagetag.hosting import Hosting
from stagetag.views import short


def shown(stamp: Stamp) -> str:
    """ISO 8601 in the tagger's offset, with a space for the `T`: easier to read."""
    return _readable(isoformat(stamp))


def _readable(iso: str) -> str:
    return iso.replace("T", " ")


class Cells:
    """One page's cells, each made once: a tag's ref, time and message show in its history
    entry and again in its version's row or its stage's timeline, and authors, versions and
    stages recur on every row. (The caches hold no reference back to the object, so that it
    is freed with its page although the CLI runs without the cycle collector.)"""

    def __init__(self, hosting: Hosting | None) -> None:
        self.hosting = hosting
        self.text = text = cache(escape)
        self.time = cache(_time)
        self.version = cache(lambda name: text(short(name)))  # SHA versions shortened
        # The tag's name, linked to the tag where the host is known.
        self.tag = cache(lambda ref: _link(text, ref, hosting.tag_url(ref) if hosting else None))

    def commit(self, sha: str) -> Markup:
        """The short SHA, linked to the commit where the host is known."""
        url = self.hosting.commit_url(sha) if self.hosting else None
        return _link(self.text, sha[:7], url)


def _link(text: Callable[[str], Markup], shown: str, url: str | None) -> Markup:
    if url is None:
        return text(shown)
    return Markup(f'<a href="{escape(url)}">{text(shown)}</a>')


def _time(stamp: Stamp) -> Markup:
    iso = isoformat(stamp)  # digits, `-`, `:`, `+` and `T`: nothing to escape
    return Markup(f'<time datetime="{iso}">{_readable(iso)}</time>')
