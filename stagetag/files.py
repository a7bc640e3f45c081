"""Files a command writes for the user (`dispatch -o`, `--save-state`, the dashboard's pages):
each whole or not at all."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def write_whole(path: Path, text: str, errors: str = "strict") -> None:
    """Write `text` to `path` through a temporary file beside it, renamed over `path` only
    once complete: a full disk or a missing folder leaves no partial file, and any old one
    as it was. Errors are OSErrors that name `path`; `errors` is the encoder's policy."""
    with written_together() as write:
        write(path, text, errors)


@contextmanager
def written_together() -> Iterator[Callable[[Path, str, str], None]]:
    """`write(path, text, errors)` for many files that replace their old ones together: each
    goes to a temporary file beside its place as it is written (so no file waits in memory
    for the others), and all are renamed into place only once the block has written every
    one. A failure anywhere leaves every old file as it was."""
    written: list[tuple[str, Path]] = []

    def write(path: Path, text: str, errors: str = "strict") -> None:
        written.append((_beside(path, text, errors), path))

    try:
        yield write
        for temporary, path in written:
            try:
                os.replace(temporary, path)
            except OSError as e:
                raise OSError(e.errno, e.strerror, str(path)) from None
    finally:
        for temporary, _ in written:
            Path(temporary).unlink(missing_ok=True)  # gone already, unless something failed


def _beside(path: Path, text: str, errors: str) -> str:
    """`text` in a new temporary file next to `path`, with the mode open() would give it."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors=errors) as out:
            out.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as open() would have made it, not mkstemp's 0600
    except BaseException as e:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise OSError(e.errno, e.strerror, str(path)) from None
        raise
    return temporary
