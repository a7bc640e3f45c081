"""Shell words for values anyone who can push a tag chose: deploy commands (the dispatcher)
and the `gh` commands the dashboard shows."""

from __future__ import annotations

import shlex


def shell_quote(text: str) -> str:
    """One shell word for `text`. A value with a control character other than a newline or a
    tab (an escape sequence, a carriage return) is written in bash's `$'...'` quoting, its
    bytes as `\\xHH` (which, unlike `\\u`, bash reads the same in every locale), so the
    command itself never carries one to a terminal or a log."""
    if all(_plain(c) for c in text):
        return shlex.quote(text)
    return "$'" + "".join(_ansi_c(c) for c in text) + "'"


def _plain(c: str) -> bool:
    return c.isprintable() or c in "\n\t"


def _ansi_c(c: str) -> str:
    if c in "\\'":
        return f"\\{c}"
    if _plain(c):
        return c
    return "".join(f"\\x{b:02x}" for b in c.encode("utf-8", "surrogateescape"))
