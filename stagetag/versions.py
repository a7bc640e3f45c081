"""SemVer with GTO's lowercase `v`: validity, precedence and bumping.

Precedence follows the SemVer 2.0 rules that python-semver (GTO's library) implements:
prereleases sort below their release, numeric identifiers below alphanumeric ones, and build
metadata is ignored. The key is a plain tuple, which sorts many thousands of versions far
faster than comparing python-semver objects; the tests check it against python-semver.
"""

from __future__ import annotations

from functools import cache

from stagetag.grammar import VERSION_RE

FIRST_VERSION = "v0.0.1"

PrereleasePart = tuple[int, int | str]
SemverKey = tuple[int, int, int, tuple[int, tuple[PrereleasePart, ...]]]


def is_semver(version: str) -> bool:
    return bool(VERSION_RE.match(version))


@cache
def semver_key(version: str) -> SemverKey:
    """A sort key with SemVer precedence; equal for versions differing only in build metadata."""
    match = VERSION_RE.match(version)
    if match is None:
        raise ValueError(f"{version!r} is not a SemVer version with a 'v'")
    prerelease = match["prerelease"]
    if prerelease is None:
        rank: tuple[int, tuple[PrereleasePart, ...]] = (1, ())
    else:
        rank = (0, tuple((0, int(p)) if p.isdigit() else (1, p) for p in prerelease.split(".")))
    return int(match["major"]), int(match["minor"]), int(match["patch"]), rank


def bump(version: str, part: str = "patch") -> str:
    """Bump `major`, `minor` or `patch`, dropping prerelease and build parts as GTO does."""
    major, minor, patch, _ = semver_key(version)
    if part == "major":
        return f"v{major + 1}.0.0"
    if part == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"
