"""The GTO tag grammar: parse and format tag names, and validate names, stages and versions.

The regular expressions are GTO 1.10.1's own, so that a tag is a registry event for stagetag
exactly when it is one for GTO. Everything here is pure: no git, no I/O.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import NamedTuple

from stagetag.errors import StagetagError

SEPARATOR_IN_NAME = ":"
SEPARATOR_IN_TAG = "="

_DIRNAME = r"[a-zA-Z0-9-_./]+"
_NAME = r"[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?"
_SEMVER = (
    r"(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<prerelease>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<buildmetadata>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_FULLNAME = f"(?P<dirname>{_DIRNAME}{SEPARATOR_IN_NAME})?(?P<name>{_NAME})"

# `\Z` where GTO writes `$`: GTO's `$` also matches before a trailing newline, which would let
# a newline ride along in a name. Nothing that passes GTO's check fails ours otherwise.
NAME_RE = re.compile(rf"^{_NAME}\Z")
FULLNAME_RE = re.compile(rf"^{_FULLNAME}\Z")
TAG_RE = re.compile(
    rf"^(?P<artifact>{_FULLNAME.replace(SEPARATOR_IN_NAME, SEPARATOR_IN_TAG)})"
    rf"(((#(?P<stage>{_NAME})|@(?P<version>v{_SEMVER}))(?P<cancel>!?))"
    r"|@((?P<deprecated>deprecated)|(?P<created>created)))"
    r"(#(?P<counter>[0-9]+))?\Z"
)
SHORTCUT_RE = re.compile(
    rf"^(?P<artifact>{_FULLNAME})(#(?P<stage>{_NAME})|@(?P<version>latest|greatest|v{_SEMVER}))\Z"
)
# SemVer proper (what python-semver and so GTO's `SemVer.is_valid` accept) has ASCII digits
# only; `\d` in the tag grammar above also matches other scripts' digits, as in GTO.
_ASCII_SEMVER = _SEMVER.replace(r"\d", "[0-9]")
VERSION_RE = re.compile(rf"^v{_ASCII_SEMVER}\Z")
HEXSHA_RE = re.compile(r"^[0-9a-fA-F]{40}\Z")


class Action(Enum):
    """What a tag does to the registry, with GTO's template for its name."""

    DEPRECATE = "{artifact}@deprecated"
    REGISTER = "{artifact}@{version}"
    DEREGISTER = "{artifact}@{version}!"
    ASSIGN = "{artifact}#{stage}"
    UNASSIGN = "{artifact}#{stage}!"
    CREATE = "{artifact}@created"  # parsed (GTO's grammar has it) but never an event

    # Members are singletons: hash them by identity, in C (Enum's own hashes the name in
    # Python, and a registry looks an action up once per tag).
    __hash__ = object.__hash__


# Python 3.11 reads a member off an Enum class in ~0.1 µs (its EnumType has a __getattr__), ten
# times a module global: parse_tag, run once per tag, uses these.
_REGISTER, _DEREGISTER, _ASSIGN, _UNASSIGN, _DEPRECATE, _CREATE = (
    Action.REGISTER,
    Action.DEREGISTER,
    Action.ASSIGN,
    Action.UNASSIGN,
    Action.DEPRECATE,
    Action.CREATE,
)


class ParsedTag(NamedTuple):
    """A GTO tag name taken apart. `artifact` is the colon form (`dir:name`)."""

    artifact: str
    action: Action
    version: str | None = None
    stage: str | None = None
    counter: int | None = None


class Shortcut(NamedTuple):
    """`NAME`, `NAME@vX`, `NAME@latest` or `NAME#STAGE`, as `show` takes them."""

    name: str
    version: str | None = None
    stage: str | None = None
    latest: bool = False


def name_to_tag(artifact: str) -> str:
    return artifact.replace(SEPARATOR_IN_NAME, SEPARATOR_IN_TAG)


def tag_to_name(artifact: str) -> str:
    return artifact.replace(SEPARATOR_IN_TAG, SEPARATOR_IN_NAME)


def parse_tag(tag: str) -> ParsedTag | None:
    """Parse a tag name (with or without `refs/tags/`); None when it is not a GTO tag."""
    match = TAG_RE.match(tag.removeprefix("refs/tags/"))
    if not match:
        return None
    artifact, version, stage, cancel, deprecated, counter = match.group(*_GROUPS)
    number = int(counter) if counter else None
    name = artifact.replace(SEPARATOR_IN_TAG, SEPARATOR_IN_NAME)  # tag_to_name, once per tag
    if version:
        action = _DEREGISTER if cancel else _REGISTER
        return _new(ParsedTag, (name, action, version, None, number))
    if stage:
        action = _UNASSIGN if cancel else _ASSIGN
        return _new(ParsedTag, (name, action, None, stage, number))
    return _new(ParsedTag, (name, _DEPRECATE if deprecated else _CREATE, None, None, number))


_GROUPS = tuple(
    TAG_RE.groupindex[g]
    for g in ("artifact", "version", "stage", "cancel", "deprecated", "counter")
)
_new = tuple.__new__  # a NamedTuple's own __new__ is a Python function; this runs per tag


def format_tag(
    action: Action,
    artifact: str,
    version: str | None = None,
    stage: str | None = None,
    counter: int | None = None,
) -> str:
    """The tag name GTO writes; `counter=None` gives the simple form."""
    tag = action.value.format(artifact=name_to_tag(artifact), version=version, stage=stage)
    return tag if counter is None else f"{tag}#{counter}"


def parse_shortcut(value: str) -> Shortcut:
    match = SHORTCUT_RE.match(value)
    if not match:
        return Shortcut(value)
    latest = match["version"] in ("latest", "greatest")
    version = None if latest else match["version"]
    return Shortcut(match["artifact"], version=version, stage=match["stage"], latest=latest)


def is_hexsha(value: str) -> bool:
    return bool(HEXSHA_RE.match(value))


def check_name(value: str, what: str = "name") -> str:
    """A plain name: a stage, a type, a label, or the part of an artifact after `dir:`."""
    if not NAME_RE.match(value):
        raise StagetagError(
            f"invalid {what} {value!r}: use letters, digits, '_', '-' and '/', "
            "starting and ending with a letter or digit"
        )
    return value


def check_artifact(value: str) -> str:
    """An artifact name `[DIR:]NAME` that GTO accepts and git can store in a tag name."""
    if not FULLNAME_RE.match(value):
        if value.count(SEPARATOR_IN_NAME) > 1 or SEPARATOR_IN_TAG in value:
            raise StagetagError(
                f"invalid artifact name {value!r}: write a folder as 'dir:name' with one ':'"
            )
        folder, _, name = value.rpartition(SEPARATOR_IN_NAME)
        if not NAME_RE.match(name):
            part = "the name after the folder" if folder else "it"
            raise StagetagError(
                f"invalid artifact name {value!r}: {part} must use letters, digits, '_', '-' "
                "and '/', and start and end with a letter or digit"
            )
        raise StagetagError(
            f"invalid artifact name {value!r}: the folder {folder!r} may use letters, digits, "
            "'_', '-', '.' and '/'"
        )
    problem = ref_name_problem(f"refs/tags/{name_to_tag(value)}@v0.0.0")
    if problem:
        raise StagetagError(f"invalid artifact name {value!r}: git cannot store it ({problem})")
    return value


def check_version(value: str) -> str:
    """A version is SemVer with a lowercase `v`, e.g. v1.2.0 or v1.2.0-rc.1+build.5."""
    if not VERSION_RE.match(value):
        raise StagetagError(
            f"invalid version {value!r}: use SemVer with a lowercase 'v', e.g. 'v1.2.0'"
        )
    return value


_REF_COMPONENT_MAX = 255  # bytes: one path component of a loose ref on common filesystems


def ref_name_problem(ref: str) -> str | None:
    """Why git would refuse `ref` (the rules of `git check-ref-format`), or None."""
    if ref.endswith("/") or "//" in ref:
        return "empty path component"
    for part in ref.split("/"):
        if part.startswith("."):
            return "a path component starts with '.'"
        if part.endswith(".lock"):
            return "a path component ends with '.lock'"
        if len(part.encode()) > _REF_COMPONENT_MAX:
            return f"a path component is longer than {_REF_COMPONENT_MAX} bytes"
    if ".." in ref:
        return "'..' is not allowed"
    if ref.endswith("."):
        return "it ends with '.'"
    if "@{" in ref:
        return "'@{' is not allowed"
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c in " ~^:?*[\\" for c in ref):
        return "it contains a space, control character or one of ~^:?*[\\"
    return None
