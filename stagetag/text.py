"""Text from tags, files and URLs made safe to show: credentials in URLs redacted, control
characters (a newline, a terminal escape sequence) written as escapes."""

from __future__ import annotations

import re

# userinfo in a URL (`https://user:token@host/...`): everything between `//` and the last `@`
# before the host's end
_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s'\"]+@")


def redact(text: str) -> str:
    """`https://x-access-token:TOKEN@host/o/r` -> `https://***@host/o/r`."""
    return _CREDENTIALS.sub(r"\1***@", text)


def printable(text: str) -> str:
    """Control and other unprintable characters as Python escapes (`\\n`, `\\x1b`)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shown(text: str) -> str:
    """What a message shows of `text`: redacted and printable."""
    return printable(redact(text))
