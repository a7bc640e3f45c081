"""Files a command writes: each whole, and the dashboard's pages all together or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagetag.files import write_whole, written_together


def contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir())}


def test_files_written_together_replace_the_old_ones_only_once_all_are_written(
    tmp_path: Path,
) -> None:
    for name in ("a.html", "b.html"):
        (tmp_path / name).write_text(f"old {name}")
    with pytest.raises(RuntimeError), written_together() as write:
        write(tmp_path / "a.html", "new a", "strict")
        raise RuntimeError("the second page's template failed")
    assert contents(tmp_path) == {"a.html": "old a.html", "b.html": "old b.html"}  # no temp left
    with written_together() as write:
        write(tmp_path / "a.html", "new a", "strict")
        write(tmp_path / "b.html", "new b \udcff", "replace")
    assert contents(tmp_path) == {"a.html": "new a", "b.html": "new b ?"}


def test_a_file_written_whole_is_never_half_written(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        write_whole(target, "new \udcff")
    assert contents(tmp_path) == {"out.txt": "old"}
    write_whole(target, "new")
    assert contents(tmp_path) == {"out.txt": "new"}
