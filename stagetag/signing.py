"""Signed stage tags: SSH keys stagetag signs with, and whether a tag's signature holds.

A protected stage with `signed: true` deploys only for tags whose SSH signature git verifies
against an allowed-signers file (`promotion: signers:`). The key formats are read here, in
Python, so that a malformed or passphrase-protected key is refused in one line before any tag
is made, and a refusal can name the key that signed a tag; git (through gitio) signs and
verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import shutil
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from stagetag import gitio
from stagetag.errors import StagetagError

_KEY_BEGIN = "-----BEGIN OPENSSH PRIVATE KEY-----"
_KEY_END = "-----END OPENSSH PRIVATE KEY-----"
_SSH_SIGNATURE = b"-----BEGIN SSH SIGNATURE-----"
_SSH_SIGNATURE_END = b"-----END SSH SIGNATURE-----"
_OTHER_SIGNATURES = (b"-----BEGIN PGP SIGNATURE-----", b"-----BEGIN SIGNED MESSAGE-----")


class _Reader:
    """SSH's wire format: big-endian lengths, then bytes."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise ValueError("truncated")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def uint32(self) -> int:
        value: int = struct.unpack(">I", self.take(4))[0]
        return value

    def string(self) -> bytes:
        return self.take(self.uint32())


def fingerprint(public_blob: bytes) -> str:
    """`SHA256:...`, as ssh-keygen -l names a key: safe to show."""
    digest = base64.b64encode(hashlib.sha256(public_blob).digest()).decode()
    return "SHA256:" + digest.rstrip("=")


def parse_key(text: str, source: str) -> str:
    """The SSH private key in `text` (OpenSSH's format, no passphrase) as a key file holds it,
    one `\n` per line; else one line saying why stagetag cannot sign with it. `source` names
    where it came from (never its content)."""
    lines = [line.strip() for line in text.strip().splitlines()]
    if len(lines) < 3 or lines[0] != _KEY_BEGIN or lines[-1] != _KEY_END:
        raise StagetagError(
            f"{source} is not an OpenSSH private key (it must start with {_KEY_BEGIN}); "
            "make one with ssh-keygen -t ed25519 -N '' -f KEY"
        )
    try:
        reader = _Reader(base64.b64decode("".join(lines[1:-1]), validate=True))
        if reader.take(15) != b"openssh-key-v1\0":
            raise ValueError("not openssh-key-v1")
        cipher = reader.string()
        reader.string()  # the key derivation
        reader.string()  # and its options
        if reader.uint32() != 1:
            raise ValueError("not one key")
        reader.string()  # the public key
        private = _Reader(reader.string())
        if cipher == b"none" and private.uint32() != private.uint32():
            raise ValueError("check bytes differ")
    except (ValueError, binascii.Error, struct.error):
        raise StagetagError(
            f"{source} is not a readable OpenSSH private key (damaged or cut short); "
            "copy the whole key file, from its BEGIN line to its END line"
        ) from None
    if cipher != b"none":
        raise StagetagError(
            f"{source} is protected by a passphrase, which stagetag cannot type; use a key "
            "without one (ssh-keygen -t ed25519 -N '' -f KEY) and keep it as a secret"
        )
    return "\n".join(lines) + "\n"


def read_key(path: Path) -> str:
    """The private key in the file at `path` (`--sign-with PATH`)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise StagetagError(f"cannot read the signing key {str(path)!r}: {e.strerror}") from None
    return parse_key(data.decode("utf-8", "replace"), f"signing key file {str(path)!r}")


def require_ssh_keygen() -> None:
    """git signs and verifies SSH signatures with ssh-keygen."""
    if shutil.which("ssh-keygen") is None:
        raise StagetagError(
            "signed stage tags need ssh-keygen, which is not on PATH: install OpenSSH's "
            "client (Debian: openssh-client)"
        )


class Signature(NamedTuple):
    """What a tag object says about its own signature, before anything is verified."""

    kind: str  # "none", "ssh" or "other" (PGP, X.509)
    public_blob: bytes = b""  # the signer's public key, for an SSH signature that has one


def signature_of(raw: bytes) -> Signature:
    """The signature at the end of a raw tag object: the last line that starts one, as git
    and GTO find it."""
    at = max((raw.rfind(b"\n" + m) for m in (_SSH_SIGNATURE, *_OTHER_SIGNATURES)), default=-1)
    if at == -1:
        return Signature("none")
    armored = raw[at + 1 :]
    if not armored.startswith(_SSH_SIGNATURE):
        return Signature("other")
    body = armored[len(_SSH_SIGNATURE) :].partition(_SSH_SIGNATURE_END)[0]
    try:
        reader = _Reader(base64.b64decode(b"".join(body.split()), validate=True))
        if reader.take(6) != b"SSHSIG":
            raise ValueError("no SSHSIG magic")
        reader.uint32()  # its version
        return Signature("ssh", reader.string())
    except (ValueError, binascii.Error, struct.error):
        return Signature("ssh")


def refusal(
    root: Path,
    tag: str,
    stage: str,
    signers: Path,
    shown: str,
    tags: Sequence[gitio.TagRecord] | None = None,
) -> str | None:
    """Why the event `tag` may not change the signed stage `stage`, or None when the tag
    object it was read from has an SSH signature that verifies against the allowed-signers
    file `signers` (`shown` is how stagetag.yaml names it). `tags` are the tags the event was
    read from (a registry's); they are read afresh when not given.

    GTO names an event after the name inside a tag object, not after the ref it sits under,
    so the object that made the event `tag` is whichever object is *named* `tag`, and it
    need not be the object at refs/tags/`tag`. Only an object named `tag` under
    refs/tags/`tag` is vouched for, by verifying that very object; an object named `tag`
    under any other ref refuses the event even if its signature verifies, because a
    signature covers the object and not the ref: the ref's name still picks GTO's pass
    (deprecations, then registrations, then assignments), a copy of an old signed object
    replays it as a second event, and the copy's ref was never signed by anyone. This is the
    stricter of the two readings (the other verifies every copy) and the only one that lets
    the signature say which event a signer meant."""
    rule = f"stage {stage!r} takes only tags signed by a key in {shown}"
    records = gitio.read_tags(root) if tags is None else tags
    named = [t for t in records if t.annotated and t.tag_name == tag]
    elsewhere = sorted(t.name for t in named if t.name != tag)
    if elsewhere:
        under = ", ".join(f"refs/tags/{name}" for name in elsewhere)
        return (
            f"{rule}, and {tag!r} cannot be vouched for: its tag object is named {tag!r} but "
            f"sits under {under}; GTO reads it as {tag}, and a signature does not cover the "
            "name of the ref a tag object sits under"
        )
    if not named:
        return f"{rule}, and {tag!r} is not signed"  # lightweight, or not there at all
    [record] = named
    ref = f"refs/tags/{tag}"
    found = gitio.read_objects(root, [ref]).get(ref)
    if found is None or found.kind != "tag" or gitio.parse_tag_object(tag, found.data) != record:
        # the ref moved since the event was read: what it holds now did not make the event
        return f"{rule}, and {ref} changed while {tag!r} was checked"
    signature = signature_of(found.data)
    if signature.kind == "none":
        return f"{rule}, and {tag!r} is not signed"
    if signature.kind == "other":
        return f"{rule} (SSH signatures), and {tag!r} has a GPG or X.509 signature"
    if gitio.verify_tag(root, found.sha, signers):  # the object id: the object read above
        return None
    if not signature.public_blob:
        return f"{rule}, and the SSH signature of {tag!r} is unreadable"
    key = fingerprint(signature.public_blob)
    if _listed(signers, signature.public_blob):
        return (
            f"{rule}, and the signature of {tag!r} by key {key} does not verify: the tag was "
            "changed after it was signed, or the key's entry does not allow it"
        )
    return f"{rule}, and {tag!r} is signed by key {key}, which is not there"


def _listed(signers: Path, public_blob: bytes) -> bool:
    """Whether the key appears in the allowed-signers file at all (to tell an unlisted key
    from a signature that fails for a listed one)."""
    wanted = base64.b64encode(public_blob).decode()
    text = signers.read_text(encoding="utf-8", errors="replace")
    return any(wanted in line.split() for line in text.splitlines())
