"""The one error boundary: every way in runs its work through `guarded`, which turns what
went wrong into one line and a documented exit code, and never shows a traceback unless asked.

Exit codes: 0 done; 1 refused (bad input, policy, conflict, a file that cannot be written);
2 usage (click's own); 3 a deploy job failed; 4 an internal error, a bug.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn

import click

from stagetag.errors import StagetagError, Wording
from stagetag.text import shown

INTERNAL_ERROR = 4
BUG_REPORTS = "https://github.com/stagetag/stagetag/issues"


def debugging() -> bool:
    """STAGETAG_DEBUG=1 (or `stagetag --traceback`): let an internal error's traceback out."""
    return os.environ.get("STAGETAG_DEBUG", "").lower() not in ("", "0", "false", "no")


def guarded(
    work: Callable[[], int | None],
    report: Callable[[str], None],
    word: Wording,
    traceback: bool = False,
) -> NoReturn:
    """Run `work` and exit with its code; `report` gets the one line for anything that went
    wrong, with options worded by `word` for this interface."""
    report = _one_line(report)
    try:
        code = work() or 0
    except StagetagError as e:
        report(f"error: {e.worded(word)}")
        sys.exit(e.exit_code)
    except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
        raise
    except OSError as e:  # a file or folder the user named: missing, a directory, read-only, full
        where = f": {e.filename}" if e.filename else ""
        if e.filename2:  # a copy or a rename: the second file is the one being written
            where += f" -> {e.filename2}"
        report(f"error: {e.strerror or type(e).__name__}{where}")
        sys.exit(1)
    except Exception as e:
        if traceback or debugging():
            raise
        report(
            f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:300]}. This is a "
            f"bug; please report it at {BUG_REPORTS} (STAGETAG_DEBUG=1 shows the traceback)"
        )
        sys.exit(INTERNAL_ERROR)
    sys.exit(code)


def _one_line(report: Callable[[str], None]) -> Callable[[str], None]:
    """`report`, given its line with control characters (a newline in a file name, an escape
    sequence in a value) written as escapes and credentials in URLs redacted: always one
    line, nothing a terminal acts on, no token."""

    def safe(line: str) -> None:
        report(shown(line))

    return safe
