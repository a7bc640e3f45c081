"""SemVer with GTO's lowercase `v`: validity, precedence and bumping.

python-semver is the library GTO itself uses, so precedence (prereleases, ignored build
metadata) matches GTO's exactly instead of being re-derived by hand.
"""

from __future__ import annotations

from functools import cache

import semver

from stagetag.grammar import VERSION_RE

FIRST_VERSION = "v0.0.1"


def is_semver(version: str) -> bool:
    return bool(VERSION_RE.match(version))


@cache
def semver_key(version: str) -> semver.Version:
    """A sort key with SemVer precedence; equal for versions differing only in build metadata."""
    return semver.Version.parse(version[1:])


def bump(version: str, part: str = "patch") -> str:
    """Bump `major`, `minor` or `patch`, dropping prerelease and build parts as GTO does."""
    parsed = semver_key(version)
    bumped = {"major": parsed.bump_major, "minor": parsed.bump_minor, "patch": parsed.bump_patch}
    return f"v{bumped[part]()}"
