"""The only module that talks to git, through one runner (`_git`): every read is a fixed
number of `git` processes, never one per tag.

Tags come from one `git for-each-ref` listing (of the refs that match the caller's prefixes
only, when given: git then reads only that part of packed-refs) and one `git cat-file --batch`
process that streams their objects; commit metadata and files at commits come from one
`cat-file --batch` fed all the object names at once.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, NamedTuple

from stagetag.errors import StagetagError


class Stamp(NamedTuple):
    """A git timestamp: seconds since the epoch and the author's UTC offset in minutes."""

    epoch: int
    offset_minutes: int


class TagRecord(NamedTuple):
    """One tag under refs/tags. Lightweight tags have no tagger and no message.

    An annotated tag is read from its raw object the way GTO 1.10.1 reads it (dulwich): the
    name in the object's `tag` header, the first `tagger` header, the message bytes after the
    headers (NUL bytes and all) up to a signature, decoded as strict UTF-8. `problem` says why
    GTO could not read the object (GTO then fails for the whole repository)."""

    name: str  # the ref's name under refs/tags
    annotated: bool
    target: str  # the object an annotated tag points at, or the object a lightweight tag names
    tagger_name: str = ""
    tagger_email: str = ""
    message: str = ""
    tag_name: str = ""  # the name in the tag object; GTO names the event after it
    stamp: Stamp | None = None  # the tagger date, when GTO can read it
    problem: str | None = None


@dataclass(frozen=True)
class CommitInfo:
    hexsha: str
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    committed_at: Stamp
    message: str


@dataclass(frozen=True)
class GitEnv:
    """What every git process of one run gets besides the caller's environment: `-c`
    settings (the CI workspace as a safe.directory, an auth header for the remote's host) and
    a tagger identity where none is set. Passed down per call (`configured`), never written
    into os.environ."""

    settings: tuple[tuple[str, str], ...] = ()
    identity: tuple[str, str] | None = None

    def environ(self, base: Mapping[str, str]) -> dict[str, str]:
        # LC_ALL=C: git's output is parsed and its failures are told apart by exit codes and
        # facts, never by translated text; it also keeps git's reason in English for errors.
        env = {**base, "LC_ALL": "C"}
        env.pop("LANGUAGE", None)
        count = int(env.get("GIT_CONFIG_COUNT") or 0)
        for index, (key, value) in enumerate(self.settings, start=count):
            env[f"GIT_CONFIG_KEY_{index}"] = key
            env[f"GIT_CONFIG_VALUE_{index}"] = value
        if self.settings:
            env["GIT_CONFIG_COUNT"] = str(count + len(self.settings))
        if self.identity and not env.get("GIT_COMMITTER_NAME"):
            env["GIT_COMMITTER_NAME"], env["GIT_COMMITTER_EMAIL"] = self.identity
        return env


_GIT_ENV: ContextVar[GitEnv | None] = ContextVar("stagetag_git_env", default=None)


@contextmanager
def configured(env: GitEnv) -> Iterator[None]:
    """Run every git call inside the block with `env`."""
    token = _GIT_ENV.set(env)
    try:
        yield
    finally:
        _GIT_ENV.reset(token)


class GitError(StagetagError):
    """git exited non-zero: which command, its exit code and what it said. Subclasses name
    the cases callers act on; none of them is told apart by git's wording."""

    def __init__(
        self,
        repo: Path,
        args: Sequence[str],
        returncode: int,
        stderr: str,
        doing: str = "",
    ) -> None:
        self.repo, self.command = repo, tuple(args)
        self.returncode, self.stderr = returncode, stderr
        reason = _reason(stderr) or f"exit {returncode}"
        super().__init__(f"{doing or f'git {args[0]} in {repo}'} failed: {reason}")


def _reason(stderr: str) -> str:
    """git's own explanation: its first `fatal:` or `error:` line, else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line.partition(":")[2].strip()
    return lines[-1] if lines else ""


class RemoteUnreachable(GitError):
    """The remote could not be read or written at all (network, URL, authentication)."""


class NoIdentity(GitError):
    """git knows no tagger: `git var GIT_COMMITTER_IDENT` fails."""

    def __str__(self) -> str:
        return (
            "git has no identity for the tagger: set user.name and user.email, "
            "or GIT_COMMITTER_NAME and GIT_COMMITTER_EMAIL"
        )


_Stream = int | IO[bytes] | None  # subprocess.PIPE, a file, or inherited


def _popen(
    repo: Path, args: Sequence[str], stdin: _Stream, stdout: _Stream, stderr: _Stream
) -> subprocess.Popen[bytes]:
    """The one place a git process starts: the run's GitEnv, never a shell."""
    try:
        return subprocess.Popen(
            ["git", "-C", str(repo), *args],
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            env=current_env().environ(os.environ),
        )
    except FileNotFoundError as e:
        raise StagetagError("git is not installed or not on PATH") from e


def _git(
    repo: Path, args: Sequence[str], stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """A git process run to its end, its output captured (`subprocess.run`'s way)."""
    pipe = subprocess.PIPE
    with _popen(repo, args, None if stdin is None else pipe, pipe, pipe) as process:
        try:
            stdout, stderr = process.communicate(stdin)
        except BaseException:
            process.kill()
            raise
    _traced(repo, args, process.returncode)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _traced(repo: Path, args: Sequence[str], returncode: int) -> None:
    trace = _TRACE.get()
    if trace is not None:
        trace(repo, args, returncode)


@contextmanager
def _spawned(
    repo: Path, args: Sequence[str], stdin: IO[bytes], stdout: IO[bytes], stderr: IO[bytes]
) -> Iterator[subprocess.Popen[bytes]]:
    """A git process from and to files, running while the block reads what it has written so
    far; waited for, or killed if the block failed."""
    process = _popen(repo, args, stdin, stdout, stderr)
    finished = False
    try:
        yield process
        finished = True
    finally:
        if not finished and process.poll() is None:
            process.kill()
        _traced(repo, args, process.wait())


# `stagetag -v`: called after every git process with its folder, arguments and exit code.
_TRACE: ContextVar[Callable[[Path, Sequence[str], int], None] | None] = ContextVar(
    "stagetag_git_trace", default=None
)


def trace_git(report: Callable[[Path, Sequence[str], int], None]) -> None:
    """Report every git process of the rest of this run (the CLI's -v/--verbose)."""
    _TRACE.set(report)


def run_git(repo: Path, *args: str, stdin: str | None = None) -> str:
    """Run git in `repo` and return its stdout; a failure raises GitError."""
    result = _git(repo, args, stdin.encode() if stdin is not None else None)
    if result.returncode != 0:
        raise GitError(repo, args, result.returncode, result.stderr.decode(errors="replace"))
    return result.stdout.decode(errors="surrogateescape")


def repo_root(path: Path) -> Path:
    """The top of the working tree containing `path`, as GTO resolves `-r/--repo`; for a bare
    repository its git directory (GTO's root there: it reads `.gto` from that folder)."""
    if not path.exists():
        raise StagetagError(f"repository path {str(path)!r} does not exist")
    # One process either way: in a bare repository `--show-toplevel` fails after the others
    result = _git(
        path, ("rev-parse", "--is-bare-repository", "--absolute-git-dir", "--show-toplevel")
    )
    lines = result.stdout.decode(errors="surrogateescape").splitlines()
    if result.returncode == 0 and len(lines) == 3:
        return Path(lines[2])
    if len(lines) >= 2 and lines[0] == "true":
        return Path(lines[1])
    # git's reason says which: no repository, or one it refuses (owned by another user)
    reason = _reason(result.stderr.decode(errors="replace"))
    raise StagetagError(f"{str(path)!r} is not a git repository git can use: {reason}")


def read_tags(repo: Path, prefixes: Iterable[str] | None = None) -> Iterator[TagRecord]:
    """The tags under refs/tags, in ref name order: every one, or those whose names start with
    one of `prefixes`. Two git processes whatever the count; the objects are parsed as they
    arrive, so that a whole registry's are never held at once."""
    patterns = _patterns(prefixes)
    if not patterns:
        return
    args = ("for-each-ref", "--format=%(objectname) %(refname)", *patterns)
    listed = _git(repo, args)
    if listed.returncode != 0:
        raise GitError(repo, args, listed.returncode, listed.stderr.decode(errors="replace"))
    # cat-file reads the listing as it is: each line's object, with its ref name as `rest`
    repeats = _Repeats({}, {}, {})
    usual = _USUAL.match
    for found in _cat_file(repo, listed.stdout, _BATCH_WITH_REST):
        if found is None:  # gone since it was listed
            continue
        buf, start, end, header = found
        raw_name = header[3][10:]  # after "refs/tags/"
        name = raw_name.decode(errors="surrogateescape")
        if header[1] != b"tag":
            yield TagRecord(name, False, header[0].decode())
            continue
        match = usual(buf, start, end)
        record = _usual_tag_object(name, raw_name, match, buf, end, repeats) if match else None
        yield record or parse_tag_object(name, buf[start:end])


def _patterns(prefixes: Iterable[str] | None) -> list[str]:
    """`for-each-ref` patterns for the tags whose names start with one of `prefixes`. git's
    `*` stops at a `/` (it matches refs as paths), so each prefix takes two patterns: names
    with no `/` after it, and names with one; glob characters in a prefix are escaped."""
    if prefixes is None:
        return ["refs/tags"]
    escaped = [re.sub(r"([*?\[\]\\])", r"\\\1", prefix) for prefix in prefixes]
    return list(starting_with(*(f"refs/tags/{p}" for p in escaped)))


def tag_refspecs(prefixes: Iterable[str] | None) -> list[str]:
    """Fetch refspecs for every tag, or for those whose names start with one of `prefixes`
    (a refspec's `*` matches `/` too), kept as they are locally: a tag that differs fails
    the fetch."""
    return [f"refs/tags/{p}*:refs/tags/{p}*" for p in ([""] if prefixes is None else prefixes)]


_SIGNATURE_MARKERS = (
    b"-----BEGIN PGP SIGNATURE-----",
    b"-----BEGIN PGP MESSAGE-----",
    b"-----BEGIN SIGNED MESSAGE-----",
    b"-----BEGIN SSH SIGNATURE-----",
)
_IDENTITY_RE = re.compile(r"(?P<name>.+)\s+<(?P<email>.+)>")  # scmrepo's, for the tagger
_HEXSHA_RE = re.compile(rb"[0-9a-f]{40}|[0-9a-f]{64}")


class _Unreadable(Exception):
    """A tag object GTO 1.10.1 (dulwich) cannot read: it fails for the whole repository."""


class _Repeats(NamedTuple):
    """What repeats from tag to tag within one read, decoded once and then shared: time
    zones, taggers and tagged commits (a registry of many tags holds each only once)."""

    zones: dict[bytes, int]
    people: dict[bytes, tuple[str, str]]
    shas: dict[bytes, str]


_new = tuple.__new__


def parse_tag_object(ref: str, raw: bytes) -> TagRecord:
    """A tag object's fields as GTO 1.10.1 reads them, or a record naming why it cannot."""
    try:
        return _read_tag_object(ref, raw)
    except _Unreadable as e:
        return TagRecord(ref, True, "", tag_name=ref, problem=str(e))


# The tag object `git tag -a` writes: the four headers in git's order, one line each, a tagger
# date of at most 11 digits (before year 5138) and a zone of four digits, then the message.
# Read in one match, what `_read_tag_object` reads in many steps.
_USUAL = re.compile(
    rb"object ([0-9a-f]{40}|[0-9a-f]{64})\ntype (?:commit|tag)\ntag ([^\n]*)\n"
    rb"tagger ([^\n]*>) ([0-9]{1,11}) ([+-][0-9]{4})\n\n"
)


def _usual_tag_object(
    ref: str, raw_ref: bytes, usual: re.Match[bytes], raw: bytes, end: int, repeats: _Repeats
) -> TagRecord | None:
    """`_read_tag_object`'s record for an object `_USUAL` matched (in `raw`, up to `end`)
    under the ref `ref` (`raw_ref` as git wrote it), or None where that takes more than the
    usual steps (it then reads the object itself)."""
    target, name, person, epoch, zone = usual.groups()
    zones, people, shas = repeats
    offset = zones.get(zone)
    if offset is None:
        seconds = int(zone[1:3]) * 3600 + int(zone[3:]) * 60  # `+0090` is 90 minutes, as in GTO
        if seconds >= 86400:
            return None
        offset = zones[zone] = (seconds if zone[:1] == b"+" else -seconds) // 60
    who = people.get(person)
    if who is None:
        try:
            match = _IDENTITY_RE.match(person.decode("utf-8"))
        except UnicodeDecodeError:
            return None
        if match is None:
            return None
        who = people[person] = (match["name"], match["email"])
    body = raw[usual.end() : end]
    if b"-----BEGIN " in body:
        marker = _signature_start(body)
        body = body if marker is None else body[:marker]
    try:
        message = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    sha = shas.get(target)
    if sha is None:
        sha = shas[target] = target.decode()
    tag_name = ref if name == raw_ref else name.decode("utf-8", "surrogateescape")
    # tuple.__new__: a NamedTuple's own __new__ is a Python function, and this runs per tag
    stamp = _new(Stamp, (int(epoch), offset))
    return _new(TagRecord, (ref, True, sha, who[0], who[1], message, tag_name, stamp, None))


def _headers(raw: bytes) -> tuple[list[tuple[bytes, bytes]], bytes | None]:
    """dulwich's `_parse_message`: header lines (indented lines continue the previous one)
    up to an empty line, then the body; None for the body when the headers run to the end."""
    headers: list[tuple[bytes, list[bytes]]] = []
    pos = 0
    while pos < len(raw):
        eol = raw.find(b"\n", pos)
        line = raw[pos:] if eol == -1 else raw[pos : eol + 1]
        pos += len(line)
        if line.startswith(b" ") and headers:
            headers[-1][1].append(line[1:])
            continue
        if line == b"\n":
            return [(k, _strip_newline(b"".join(v))) for k, v in headers], raw[pos:]
        key, space, value = line.partition(b" ")
        if not space:
            raise _Unreadable(f"header line {line[:40]!r} has no value")
        headers.append((key, [value]))
    return [(k, _strip_newline(b"".join(v))) for k, v in headers], None


def _strip_newline(value: bytes) -> bytes:
    return value[:-1] if value.endswith(b"\n") else value


def _read_tag_object(ref: str, raw: bytes) -> TagRecord:
    headers, body = _headers(raw)
    for index, expected in enumerate((b"object", b"type", b"tag")):
        if len(headers) <= index or headers[index][0] != expected:
            raise _Unreadable(f"no {expected.decode()!r} header where git puts it")
    target, kind, name = headers[0][1], headers[1][1], headers[2][1]
    if not _HEXSHA_RE.fullmatch(target):
        raise _Unreadable(f"the object it tags, {target[:50]!r}, is not an object name")
    if kind not in (b"commit", b"tag"):
        raise _Unreadable(f"it tags a {kind[:20].decode(errors='replace')}, not a commit")
    if len(headers) > 3 and headers[3][0] == b"tagger":  # where git writes it
        tagger: bytes | None = headers[3][1]
    else:
        tagger = next((value for key, value in headers[3:] if key == b"tagger"), None)
    if tagger is None:
        raise _Unreadable("it has no tagger")
    person, stamp = _tagger(tagger)
    who = _IDENTITY_RE.match(person)
    if who is None:
        raise _Unreadable(f"its tagger {person[:60]!r} has no name or no email")
    if body is None:
        raise _Unreadable("it has no message")
    marker = _signature_start(body) if b"-----BEGIN " in body else None
    try:
        message = (body if marker is None else body[:marker]).decode("utf-8")
    except UnicodeDecodeError as e:
        raise _Unreadable(f"its message is not UTF-8 ({e.reason} at byte {e.start})") from None
    return TagRecord(
        ref,
        True,
        target.decode(),
        who.group("name"),
        who.group("email"),
        message,
        name.decode("utf-8", "surrogateescape"),  # os.fsdecode, as dulwich's caller
        stamp,
    )


def _tagger(value: bytes) -> tuple[str, Stamp]:
    """dulwich's `parse_time_entry` and the datetime GTO builds from it."""
    sep = value.rfind(b"> ")
    if sep == -1:
        raise _Unreadable("its tagger line has no date")
    timetext, _, zonetext = value[sep + 2 :].rpartition(b" ")
    try:
        if zonetext[:1] not in (b"+", b"-"):
            raise ValueError("no sign")
        epoch, offset = int(timetext), int(zonetext[1:])  # Python's int(), as dulwich's
    except ValueError:
        raise _Unreadable(f"its tagger date {value[sep + 2 :][:40]!r} is malformed") from None
    try:
        person = value[: sep + 1].decode("utf-8")
    except UnicodeDecodeError:
        raise _Unreadable("its tagger is not UTF-8") from None
    offset = -offset if zonetext[:1] == b"-" else offset
    hours, minutes = int(abs(offset) / 100), abs(offset) % 100  # dulwich's float division
    seconds = (1 if offset >= 0 else -1) * (hours * 3600 + minutes * 60)
    if 0 <= epoch < 253402128000 and -86400 < seconds < 86400:  # years 1970 to 9999
        return person, Stamp(epoch, seconds // 60)
    try:
        datetime.fromtimestamp(epoch, timezone(timedelta(seconds=seconds)))
    except (ValueError, OverflowError, OSError):
        raise _Unreadable(
            f"its tagger date {value[sep + 2 :][:40].decode(errors='replace')!r} is out of range"
        ) from None
    return person, Stamp(epoch, seconds // 60)


def _signature_start(body: bytes) -> int | None:
    """Where the last line starting a signature begins (dulwich's `_find_signature`)."""
    found, pos = None, 0
    while pos < len(body):
        if body.startswith(_SIGNATURE_MARKERS, pos):
            found = pos
        eol = body.find(b"\n", pos)
        if eol == -1:
            break
        pos = eol + 1
    return found


def parse_date(raw: str) -> Stamp | None:
    """Parse git's raw date, `1706745600 +0530`; None for an empty or malformed one."""
    seconds, _, zone = raw.strip().partition(" ")
    try:
        epoch = int(seconds)
        minutes = int(zone[-4:-2] or 0) * 60 + int(zone[-2:] or 0) if zone else 0
    except ValueError:
        return None
    return Stamp(epoch, -minutes if zone.startswith("-") else minutes)


class GitObject(NamedTuple):
    sha: str
    kind: str  # commit, tree, blob or tag
    data: bytes


# Where an object is in the buffer it was read into (`buf[start:end]`), and cat-file's header
# for it: name, type and size.
_Found = tuple[bytes, int, int, list[bytes]]


_BATCH_WITH_REST = "--batch=%(objectname) %(objecttype) %(objectsize) %(rest)"


def _cat_file(repo: Path, lines: bytes, batch: str = "--batch") -> Iterator[_Found | None]:
    """The object each line names (`sha` or `rev:path`, or with `_BATCH_WITH_REST` a name
    and what follows it, echoed in the header), in order, from one process. Its output goes
    to a file, read in large chunks while git is still writing it (git and the parsing share
    the machine's cores): a whole registry's tag objects are never in memory at once, and a
    file costs less to read than a pipe, which wakes the reader every few kilobytes git
    writes."""
    if not lines:
        return
    args = ("cat-file", batch, "--buffer")  # one write per buffer, not per object
    with (
        tempfile.TemporaryFile() as names,
        tempfile.NamedTemporaryFile() as out,
        open(out.name, "rb") as written,  # an offset of its own: git's moves with its writes
        tempfile.TemporaryFile() as errors,
    ):
        names.write(lines)
        names.seek(0)
        with _spawned(repo, args, names, out, errors) as process:

            def failure() -> GitError:
                errors.seek(0)
                stderr = errors.read().decode(errors="replace")
                return GitError(repo, args, process.returncode, stderr)

            def more() -> bytes:
                """The next chunk git has written, waiting for it if need be."""
                while not (chunk := written.read(_CHUNK)):
                    if process.poll() is not None:
                        if chunk := written.read(_CHUNK):
                            return chunk  # written just before it exited
                        raise failure()
                    time.sleep(0.001)
                return chunk

            yield from _batch_output(more, lines.count(b"\n"))
        if process.returncode != 0:
            raise failure()


_CHUNK = 1 << 18


def _batch_output(more: Callable[[], bytes], count: int) -> Iterator[_Found | None]:
    """`cat-file --batch` output, `count` objects of it, read in large chunks (`more()`) and
    not copied out of them: a read per object would cost more than the object (tag objects
    are a few hundred bytes)."""
    buf, pos = b"", 0
    for _ in range(count):
        eol = buf.find(b"\n", pos)
        while eol == -1:
            buf, pos = buf[pos:] + more(), 0
            eol = buf.find(b"\n")
        header = buf[pos:eol].split()
        if len(header) < 3 or not header[2].isdigit():  # `NAME missing`, `NAME ambiguous`
            pos = eol + 1
            yield None
            continue
        start = eol + 1
        end = start + int(header[2])
        while end >= len(buf):  # the content and the newline after it
            buf, start, end = buf[pos:] + more(), start - pos, end - pos
            pos = 0
        yield buf, start, end, header
        pos = end + 1


def _parse_person(line: str) -> tuple[str, str, Stamp]:
    """`Name <email> 1706745600 +0000` -> (name, email, stamp)."""
    person, _, rest = line.rpartition(">")
    name, _, email = person.partition("<")
    stamp = parse_date(rest.strip()) or Stamp(0, 0)  # a malformed date: git's fallback, 0
    return name.strip(), email, stamp


def _parse_commit(hexsha: str, raw: bytes) -> CommitInfo:
    headers, _, message = raw.decode(errors="replace").partition("\n\n")
    people = {}
    for line in headers.splitlines():
        key, _, value = line.partition(" ")
        if key in ("author", "committer"):
            people[key] = _parse_person(value)
    nobody = ("", "", Stamp(0, 0))
    author, committer = people.get("author", nobody), people.get("committer", nobody)
    return CommitInfo(
        hexsha=hexsha,
        author_name=author[0],
        author_email=author[1],
        committer_name=committer[0],
        committer_email=committer[1],
        committed_at=committer[2],
        message=message,
    )


def read_objects(repo: Path, names: Iterable[str]) -> dict[str, GitObject]:
    """Many objects (`sha`, `HEAD`, `rev:path`) in one `cat-file --batch`; missing ones are
    left out."""
    wanted = list(dict.fromkeys(names))
    lines = "".join(f"{name}\n" for name in wanted).encode()
    found = zip(wanted, _cat_file(repo, lines), strict=True)
    return {
        name: GitObject(header[0].decode(), header[1].decode(), buf[start:end])
        for name, (buf, start, end, header) in ((n, f) for n, f in found if f is not None)
    }


def commit_info(obj: GitObject) -> CommitInfo:
    return _parse_commit(obj.sha, obj.data)


def read_files_at(repo: Path, revs: Iterable[str], path: str) -> dict[str, str]:
    """The text of `path` at each rev where it exists, in one batch."""
    found = read_blobs(repo, [(rev, path) for rev in revs])
    return {rev: text for (rev, _), text in found.items()}


def read_blobs(repo: Path, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The text of each (rev, path) that exists, in one batch."""
    specs = list(dict.fromkeys(wanted))
    objects = read_objects(repo, [f"{rev}:{path}" for rev, path in specs])
    return {
        spec: obj.data.decode(errors="replace")
        for spec in specs
        if (obj := objects.get(f"{spec[0]}:{spec[1]}")) is not None and obj.kind == "blob"
    }


def head_commit(repo: Path) -> str | None:
    """The commit HEAD points at, or None in a repository without commits."""
    try:
        return run_git(repo, "rev-parse", "--verify", "-q", "HEAD^{commit}").strip() or None
    except GitError:
        return None


def resolve_commit(repo: Path, rev: str) -> str:
    """The commit a revision names (tags peeled), or a StagetagError naming the revision."""
    if rev.startswith("-"):
        raise StagetagError(f"cannot resolve revision {rev!r}: it starts with '-'")
    try:
        return run_git(repo, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}").strip()
    except GitError:
        raise StagetagError(f"cannot resolve revision {rev!r} to a commit in {repo}") from None


def create_tag(
    repo: Path, name: str, target: str, message: str, sign_with: Path | None = None
) -> None:
    """An annotated tag with the message stored verbatim (no trailing newline), unsigned, or
    `sign_with` an SSH private key file (git's `gpg.format=ssh`). git appends a signature
    right after the message, so a signed message gets the newline that puts the signature on
    a line of its own (where git and GTO look for it); GTO strips it, so GTO reads the same
    message either way."""
    settings: tuple[tuple[str, str], ...] = ()
    how = "--no-sign"
    if sign_with is not None:
        settings = (("gpg.format", "ssh"), ("user.signingkey", str(sign_with)))
        how = "--sign"
        message = message if message.endswith("\n") else message + "\n"
    env = current_env()
    args = ("tag", "-a", how, "--cleanup=verbatim", "-F", "-", name, target)
    try:
        with configured(GitEnv(env.settings + settings, env.identity)):
            run_git(repo, *args, stdin=message)
    except GitError as e:
        if _git(repo, ("var", "GIT_COMMITTER_IDENT")).returncode != 0:
            raise NoIdentity(repo, e.command, e.returncode, e.stderr) from None
        raise


def verify_tag(repo: Path, tag_object: str, allowed_signers: Path) -> bool:
    """Whether the tag object's signature verifies with a key `allowed_signers` (git's
    allowed-signers file for SSH signatures) lists for its signer; False for any failure."""
    env = current_env()
    setting = (("gpg.ssh.allowedSignersFile", str(allowed_signers)),)
    with configured(GitEnv(env.settings + setting, env.identity)):
        return _git(repo, ("verify-tag", tag_object)).returncode == 0


def delete_tags(repo: Path, names: Sequence[str]) -> None:
    if names:
        run_git(repo, "tag", "-d", *names)


def tag_object(repo: Path, name: str) -> str:
    return run_git(repo, "rev-parse", "--verify", "-q", f"refs/tags/{name}").strip()


def ref_value(repo: Path, ref: str) -> str | None:
    try:
        return run_git(repo, "rev-parse", "--verify", "-q", ref).strip() or None
    except GitError:
        return None


def fetch(repo: Path, remote: str, *refspecs: str, prune: bool = False) -> None:
    """Fetch refspecs from `remote`; with `prune`, refs under the refspecs' destinations that
    the remote lacks go. A failure is RemoteUnreachable when the remote cannot even be listed,
    else GitError (e.g. a local tag that differs from the remote's)."""
    args = ("fetch", "--quiet", "--no-tags", *(["--prune"] if prune else []), "--", remote)
    args += refspecs
    result = _git(repo, args)
    if result.returncode == 0:
        return
    error = RemoteUnreachable if remote_refs(repo, remote) is None else GitError
    stderr = result.stderr.decode(errors="replace")
    raise error(repo, args, result.returncode, stderr, f"git fetch from {remote!r}")


def local_refs(repo: Path, *patterns: str) -> dict[str, str]:
    """The refs matching `for-each-ref` patterns here, by full name, with their objects."""
    out = run_git(repo, "for-each-ref", "--format=%(refname) %(objectname)", *patterns)
    return {name: sha for name, _, sha in (line.partition(" ") for line in out.splitlines())}


def starting_with(*starts: str) -> tuple[str, ...]:
    """`for-each-ref` patterns for the refs whose names start with any of `starts`: its `*`
    stops at a `/`, so names with slashes after the start need a second pattern."""
    return tuple(p for start in starts for p in (f"{start}*", f"{start}*/**"))


def update_refs(repo: Path, updates: Sequence[tuple[str, str | None]]) -> None:
    """Set each ref to its object (or delete it, for None), all in one transaction (none
    moves if one cannot)."""
    if updates:
        commands = "".join(
            f"update {ref} {sha}\n" if sha else f"delete {ref}\n" for ref, sha in updates
        )
        run_git(repo, "update-ref", "--stdin", stdin=commands)


def remote_refs(repo: Path, remote: str, *patterns: str) -> dict[str, str] | None:
    """The remote's refs (matching `patterns`) by name, or None when it cannot be listed."""
    result = _git(repo, ("ls-remote", "--", remote, *patterns))
    if result.returncode != 0:
        return None
    lines = result.stdout.decode(errors="surrogateescape").splitlines()
    return {name: sha for sha, _, name in (line.partition("\t") for line in lines)}


class PushResult(NamedTuple):
    accepted: bool
    rejections: tuple[str, ...] = ()  # each rejected ref's porcelain status and reason
    remote_said: tuple[str, ...] = ()  # what the remote's hooks printed


def push(
    repo: Path, remote: str, refspecs: Sequence[str], leases: Sequence[str] = ()
) -> PushResult:
    """Push refspecs atomically. Refused refs are a result (the caller finds out why from the
    remote's state, not from git's words); a remote it could not talk to raises
    RemoteUnreachable."""
    args = [
        "push",
        "--atomic",
        "--porcelain",
        *(f"--force-with-lease={lease}" for lease in leases),
        "--",
        remote,
        *refspecs,
    ]
    result = _git(repo, args)
    if result.returncode == 0:
        return PushResult(True)
    stdout = result.stdout.decode(errors="replace")
    stderr = result.stderr.decode(errors="replace")
    rejected = [line for line in stdout.splitlines() if line.startswith("!")]
    if not rejected:
        raise RemoteUnreachable(repo, args, result.returncode, stderr, f"git push to {remote!r}")
    said = tuple(
        text
        for line in stderr.splitlines()
        if line.startswith("remote:") and (text := line[7:].strip())
    )
    return PushResult(False, tuple(line.split("\t")[-1] for line in rejected), said)


def is_ancestor(repo: Path, commit: str, ref: str) -> bool:
    return _git(repo, ("merge-base", "--is-ancestor", commit, ref)).returncode == 0


def remote_url(repo: Path, remote: str) -> str | None:
    try:
        return run_git(repo, "remote", "get-url", "--", remote).strip() or None
    except GitError:
        return None


def remote_head(repo: Path, remote: str) -> str | None:
    """The remote's default branch as this clone last saw it (`refs/remotes/REMOTE/HEAD`,
    which `git clone` sets), or None."""
    prefix = f"refs/remotes/{remote}/"
    result = _git(repo, ("symbolic-ref", "--quiet", f"{prefix}HEAD"))
    if result.returncode != 0:
        return None
    return result.stdout.decode(errors="replace").strip().removeprefix(prefix) or None


def update_ref(repo: Path, ref: str, value: str) -> None:
    run_git(repo, "update-ref", ref, value)


def is_shallow(repo: Path) -> bool:
    return run_git(repo, "rev-parse", "--is-shallow-repository").strip() == "true"


def write_marker(repo: Path, commit: str, message: str) -> str:
    """A new tag object that no tag ref names (for a ref that must change to a value nobody
    else can have written); its tagger is the committer identity, as for tags."""
    args = ("var", "GIT_COMMITTER_IDENT")
    found = _git(repo, args)
    if found.returncode != 0:
        raise NoIdentity(repo, args, found.returncode, found.stderr.decode(errors="replace"))
    ident = found.stdout.decode(errors="surrogateescape").strip()
    text = f"object {commit}\ntype commit\ntag stagetag-marker\ntagger {ident}\n\n{message}\n"
    return run_git(repo, "mktag", stdin=text).strip()


# A partial cache of a remote (stagetag/sources.py): a bare repository whose remote `origin`
# is a promisor, with blobs left out of the fetches and brought in by name where needed.
_CACHE_SETTINGS = (
    ("core.repositoryformatversion", "1"),
    ("extensions.partialClone", "origin"),
    ("remote.origin.promisor", "true"),
    ("remote.origin.partialclonefilter", "blob:none"),
    ("gc.autoDetach", "false"),  # gc runs inside the fetch, under the cache's lock
    ("core.logAllRefUpdates", "false"),
)
CACHE_HEAD = "refs/heads/remote-head"  # the remote's HEAD commit; the cache's HEAD names it


def current_env() -> GitEnv:
    """The GitEnv git calls get right now (to extend it for a block)."""
    return _GIT_ENV.get() or GitEnv()


def init_cache(path: Path) -> None:
    """An empty bare repository at `path`, set up as a partial cache of `origin` (whose URL
    is never stored: callers pass it as `remote.origin.url` in their GitEnv)."""
    run_git(path.parent, "init", "-q", "--bare", f"--initial-branch={CACHE_HEAD[11:]}", str(path))
    for key, value in _CACHE_SETTINGS:
        run_git(path, "config", key, value)


def fetch_into_cache(repo: Path, remote: str, with_head: bool, shown: str) -> None:
    """Fetch every tag (tags gone upstream are pruned) and, `with_head`, the remote's HEAD
    commit into CACHE_HEAD, without blobs (a server that cannot filter sends them all).
    `shown` names the remote in errors (its URL without credentials)."""
    refspecs = ["+refs/tags/*:refs/tags/*", *([f"+HEAD:{CACHE_HEAD}"] if with_head else [])]
    args = ("fetch", "--quiet", "--no-tags", "--prune", "--filter=blob:none", remote, *refspecs)
    result = _git(repo, args)
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace")
        error = RemoteUnreachable if remote_refs(repo, remote) is None else GitError
        raise error(repo, args, result.returncode, stderr, f"git fetch from {shown}")


def missing_blobs(repo: Path, paths: Sequence[str]) -> list[str]:
    """The objects at `paths` in the commits of every tag and branch that are not here yet,
    found without fetching them (`rev-list --missing=print` never fetches lazily, unlike
    `cat-file`, which fetches each missing object on its own)."""
    args = ["rev-list", "--objects", "--no-walk", "--missing=print", "--tags", "--branches"]
    out = run_git(repo, *args, "--", *(f":(literal){path}" for path in paths))
    return [line[1:] for line in out.splitlines() if line.startswith("?")]


def fetch_objects(repo: Path, remote: str, names: Sequence[str], shown: str) -> None:
    """Fetch objects by name from a promisor remote in one request (what git's lazy fetch
    does for one object at a time)."""
    if not names:
        return
    args = (
        "-c",
        "fetch.negotiationAlgorithm=noop",
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        "--recurse-submodules=no",
        "--filter=blob:none",
        "--stdin",
        remote,
    )
    result = _git(repo, args, ("\n".join(names) + "\n").encode())
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace")
        raise GitError(repo, args, result.returncode, stderr, f"git fetch from {shown}")


def delete_ref(repo: Path, ref: str) -> None:
    run_git(repo, "update-ref", "-d", ref)


def pack_refs(repo: Path) -> None:
    """Every ref into packed-refs: a fetch writes each new tag as a file of its own."""
    run_git(repo, "pack-refs", "--all", "--prune")


def git_dir(repo: Path) -> Path:
    """The repository's .git folder (or the bare repository itself)."""
    return Path(run_git(repo, "rev-parse", "--absolute-git-dir").strip())


def files_at(repo: Path, rev: str, paths: Sequence[str]) -> dict[str, bytes]:
    """Every file at `rev` under `paths` (files or folders), by path, read in one batch."""
    listed = run_git(repo, "ls-tree", "-r", "-z", "--full-tree", "--name-only", rev, "--", *paths)
    names = [name for name in listed.split("\0") if name]
    objects = read_objects(repo, [f"{rev}:{name}" for name in names])
    return {
        name: obj.data
        for name in names
        if (obj := objects.get(f"{rev}:{name}")) is not None and obj.kind == "blob"
    }
