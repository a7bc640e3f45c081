"""SemVer with a lowercase `v`: validity, precedence (python-semver, as GTO) and bumping."""

from __future__ import annotations

import re

import pytest
import semver
from hypothesis import given, settings
from hypothesis import strategies as st

from stagetag.grammar import VERSION_RE
from stagetag.versions import FIRST_VERSION, bump, is_semver, semver_key

# VERSION_RE with ASCII digits only: what python-semver (and so GTO) can parse.
ascii_versions = st.from_regex(re.compile(VERSION_RE.pattern, re.ASCII), fullmatch=True)


@pytest.mark.parametrize(
    "version",
    [
        "v0.0.0",
        "v0.0.1",
        "v1.0.0",
        "v10.20.30",
        "v1.0.0-rc.1",
        "v1.0.0+build.5",
        "v1.0.0-rc.1+b.2",
        "v1.0.0-beta.-1",
        "v1.0.0-0A.is.legal",
    ],
)
def test_is_semver_accepts(version: str) -> None:
    assert is_semver(version)


@pytest.mark.parametrize(
    "version",
    [
        "1.0.0",
        "V1.0.0",
        "v1.0",
        "v1",
        "v01.0.0",
        "v1.01.0",
        "v1.0.0-01",
        "v1.0.0-rc_1",
        "v1.0.0-",
        "v1.0.0+",
        "v1.0.0\n",
        " v1.0.0",
        "vfoo",
        "latest",
        "0123456789abcdef0123456789abcdef01234567",
        "",
    ],
)
def test_is_semver_rejects(version: str) -> None:
    assert not is_semver(version)


def test_is_semver_rejects_non_ascii_digits() -> None:
    assert not is_semver("v1\u0660.0.0")  # ARABIC-INDIC DIGIT ZERO


ORDERED = [
    "v0.0.1",
    "v0.1.0",
    "v1.0.0-alpha",
    "v1.0.0-alpha.1",
    "v1.0.0-alpha.beta",
    "v1.0.0-beta",
    "v1.0.0-beta.2",
    "v1.0.0-beta.11",
    "v1.0.0-rc.1",
    "v1.0.0",
    "v1.0.1",
    "v1.9.0",
    "v1.10.0",
    "v2.0.0",
]


def test_semver_key_orders_by_precedence() -> None:
    """Numeric parts compare as numbers, and a prerelease sorts before its release."""
    shuffled = ORDERED[::-1][3:] + ORDERED[::-1][:3]
    assert sorted(shuffled, key=semver_key) == ORDERED


@pytest.mark.parametrize(
    ("low", "high"),
    [("v1.0.0-rc.1", "v1.0.0"), ("v1.0.0-rc.2", "v1.0.0-rc.10"), ("v1.9.9", "v1.10.0")],
)
def test_semver_key_pairs(low: str, high: str) -> None:
    assert semver_key(low) < semver_key(high)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("v1.0.0+build.1", "v1.0.0+build.2"),
        ("v1.0.0", "v1.0.0+b"),
        ("v1.0.0-rc.1+x", "v1.0.0-rc.1"),
    ],
)
def test_semver_key_ignores_build_metadata(a: str, b: str) -> None:
    assert semver_key(a) == semver_key(b)
    assert not semver_key(a) < semver_key(b)
    assert not semver_key(b) < semver_key(a)


@pytest.mark.parametrize(
    ("version", "part", "expected"),
    [
        ("v0.0.1", "patch", "v0.0.2"),
        ("v1.2.3", "patch", "v1.2.4"),
        ("v1.2.3", "minor", "v1.3.0"),
        ("v1.2.3", "major", "v2.0.0"),
        ("v1.0.0-rc.1", "patch", "v1.0.1"),
        ("v1.2.3-rc.1+b.7", "patch", "v1.2.4"),
        ("v1.2.3+b.7", "patch", "v1.2.4"),
        ("v1.2.3-rc.1", "minor", "v1.3.0"),
        ("v1.2.3-rc.1", "major", "v2.0.0"),
        ("v1.9.9", "patch", "v1.9.10"),
    ],
)
def test_bump(version: str, part: str, expected: str) -> None:
    assert bump(version, part) == expected


def test_bump_defaults_to_patch() -> None:
    assert bump("v1.2.3") == "v1.2.4"


def test_first_version() -> None:
    assert FIRST_VERSION == "v0.0.1"
    assert is_semver(FIRST_VERSION)


@settings(max_examples=300)
@given(ascii_versions, ascii_versions)
def test_precedence_agrees_with_python_semver(a: str, b: str) -> None:
    """The fast tuple key orders exactly as python-semver, the library GTO sorts with."""
    assert is_semver(a) and is_semver(b)
    theirs_a, theirs_b = semver.Version.parse(a[1:]), semver.Version.parse(b[1:])
    assert (semver_key(a) < semver_key(b)) == (theirs_a < theirs_b)
    assert (semver_key(a) == semver_key(b)) == (theirs_a.compare(theirs_b) == 0)


@settings(max_examples=200)
@given(ascii_versions, st.sampled_from(["major", "minor", "patch"]))
def test_bump_gives_a_greater_release(version: str, part: str) -> None:
    bumped = bump(version, part)
    assert is_semver(bumped)
    assert semver_key(bumped) > semver_key(version)
    assert "-" not in bumped and "+" not in bumped


@settings(max_examples=200)
@given(ascii_versions, ascii_versions)
def test_semver_key_is_a_total_order(a: str, b: str) -> None:
    ka, kb = semver_key(a), semver_key(b)
    assert (ka < kb) + (ka == kb) + (ka > kb) == 1
