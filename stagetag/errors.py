"""One error type for everything a user can fix; the CLI turns it into a one-line message."""

from __future__ import annotations


class StagetagError(Exception):
    """A problem with the user's input, repository or config, explained in one line."""
