"""What `-r` names: a path that exists always wins (as in GTO), else a URL git can fetch from;
and the cache folder of a URL, which never holds its credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagetag.sources import cache_path, is_url, without_credentials


@pytest.mark.parametrize(
    "source",
    [
        "https://github.com/o/r.git",
        "http://127.0.0.1:8080/o/r",
        "ssh://git@host:2222/o/r.git",
        "file:///srv/git/r.git",
        "git@github.com:o/r.git",
        "host.example:o/r",
    ],
)
def test_urls(source: str) -> None:
    assert is_url(source)


def test_paths_are_not_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "odd:name").mkdir()
    assert not is_url("odd:name")  # exists: a path, as GTO decides
    assert not is_url("some/relative/path")
    assert not is_url("./r.git")
    assert not is_url("/abs/olute:path")


def test_cache_folder_has_no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    plain = cache_path("https://github.com/o/r.git")
    with_token = cache_path("https://x-access-token:ghp_SECRET@github.com/o/r.git")
    assert plain == with_token  # one cache per repository, whoever's token reads it
    assert plain.parent == tmp_path / "stagetag" / "remotes"
    assert plain.name.startswith("github.com-o-r.git-") and "SECRET" not in str(with_token)
    assert cache_path("https://github.com/o/other.git") != plain
    assert "/" not in cache_path("git@host:a/../../b").name
    assert without_credentials("https://u:p@h/o/r") == "https://h/o/r"


def test_relative_xdg_cache_home_is_ignored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_path("https://h/o/r").parent == tmp_path / ".cache" / "stagetag" / "remotes"
