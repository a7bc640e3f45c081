"""Where `-r/--repo` points for a read: a local work tree, a bare repository, or a remote URL.

GTO 1.10.1 opens a path that exists as a repository (a bare one too: its root is then the git
directory, and `.gto` is read from that folder, not from HEAD) and clones anything else into a
temporary folder, whole, on every call. stagetag reads a URL through a cache instead: a bare
partial clone per URL under `$XDG_CACHE_HOME/stagetag/remotes` (else `~/.cache/...`), refreshed
on every call with one blobless fetch of the tags (pruned: a tag deleted upstream is gone) and
of the remote's HEAD commit, which becomes the cache's HEAD. The few blobs an answer reads
(`.gto` at HEAD, `artifacts.yaml` and `dvc.yaml` at the tagged commits) come in one more fetch,
only when some are new. `.gto` of the remote's HEAD is written into the cache's folder, where the
registry reads it, as GTO reads it from its clone's work tree.

The URL (and any credentials in it) is never written to disk: git gets it per call as
`remote.origin.url`; the cache's folder is named from the host and path and a hash of the URL
without its credentials. A lock per cache lets one call refresh it while others wait, and
then lets every reader share it.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from stagetag import gitio
from stagetag.annotations import split_name
from stagetag.config import CONFIG_FILE, load_config
from stagetag.errors import StagetagError
from stagetag.grammar import parse_tag

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SCP = re.compile(r"^(?:[^@/:\s]+@)?[^@/:\s]+:(?!//)")  # git@host:owner/repo, host:repo
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s'\"]+@")
DEFAULT_INDEX = "artifacts.yaml"


def is_url(source: str) -> bool:
    """A URL git can fetch from, and not a path that exists (GTO's test: a path wins)."""
    if os.path.exists(source):
        return False
    return bool(_SCHEME.match(source) or _SCP.match(source))


def without_credentials(url: str) -> str:
    """`https://user:token@host/o/r` -> `https://host/o/r`; scp-like URLs keep their user
    (`git@host:o/r`: a login name, never a secret)."""
    return _USERINFO.sub(r"\1", url)


def _redacted(text: str, url: str) -> str:
    """`text` with the URL's credentials gone, wherever and however git printed them."""
    text = _USERINFO.sub(r"\1***@", text)
    userinfo = urlsplit(url).netloc.rpartition("@")[0] if _SCHEME.match(url) else ""
    for secret in {userinfo, *userinfo.split(":")} - {""}:
        text = text.replace(secret, "***")
    return text


def cache_home() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "stagetag" / "remotes"


def cache_path(url: str) -> Path:
    """The cache folder of `url`: readable (host and repository), unique (a hash), safe (no
    credentials, no `/` or other characters a file name should not have)."""
    shown = without_credentials(url)
    if _SCHEME.match(shown):
        parts = urlsplit(shown)
        host, path = parts.hostname or "", parts.path
    else:
        host, _, path = shown.partition(":")
        host = host.rpartition("@")[2]
    tail = "-".join(p for p in path.split("/") if p)[-60:]
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{host}-{tail}").strip("-.")[:80]
    import hashlib  # loads OpenSSL, a few ms of every command's start; only URLs need it

    digest = hashlib.sha256(shown.encode()).hexdigest()[:16]
    return cache_home() / f"{readable or 'repo'}-{digest}.git"


@contextmanager
def opened(source: str | Path) -> Iterator[Path]:
    """The repository root to read for `source`, valid until the block ends."""
    text = str(source)
    if not is_url(text):
        yield gitio.repo_root(Path(text))
        return
    with remote_cache(text) as root:
        yield root


@contextmanager
def remote_cache(url: str) -> Iterator[Path]:
    """The refreshed cache of `url`; git calls in the block reach the remote as `origin`."""
    path = cache_path(url)
    shown = repr(without_credentials(url))
    path.parent.mkdir(parents=True, exist_ok=True)
    env = gitio.current_env()
    env = gitio.GitEnv((*env.settings, ("remote.origin.url", url)), env.identity)
    with open(path.with_suffix(".lock"), "a+b") as lock, gitio.configured(env):
        fcntl.flock(lock, fcntl.LOCK_EX)
        created = not (path / "HEAD").exists()
        try:
            if created:
                _create(path)
            _refresh(path, url, shown)
        except gitio.GitError as e:
            if created:  # nothing was ever fetched: leave no empty cache behind
                shutil.rmtree(path, ignore_errors=True)
            e.message, e.stderr = _redacted(e.message, url), _redacted(e.stderr, url)
            e.args = (e.message,)
            raise
        fcntl.flock(lock, fcntl.LOCK_SH)  # readers share it; the next refresh waits for them
        yield path


def _create(path: Path) -> None:
    """A new cache, made aside and moved into place, so a failed start leaves nothing."""
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".new-") as scratch:
        made = Path(scratch) / "cache.git"
        gitio.init_cache(made)
        made.rename(path)


def _refresh(path: Path, url: str, shown: str) -> None:
    try:
        gitio.fetch_into_cache(path, "origin", with_head=True, shown=shown)
    except gitio.RemoteUnreachable:
        raise
    except gitio.GitError:
        refs = gitio.remote_refs(path, "origin", "HEAD")
        if refs is None or "HEAD" in refs:
            raise
        # An empty remote, or one whose HEAD names no branch: only the tags, and no HEAD.
        gitio.fetch_into_cache(path, "origin", with_head=False, shown=shown)
        if gitio.ref_value(path, gitio.CACHE_HEAD):
            gitio.delete_ref(path, gitio.CACHE_HEAD)
    if any(os.scandir(path / "refs" / "tags")):
        gitio.pack_refs(path)
    paths = [CONFIG_FILE, DEFAULT_INDEX, *_dvc_files(path)]
    gitio.fetch_objects(path, "origin", gitio.missing_blobs(path, paths), shown)
    _copy_config(path)
    index = _index_file(path)
    if index not in paths:  # `.gto` names another index file: bring that in too
        gitio.fetch_objects(path, "origin", gitio.missing_blobs(path, [index]), shown)


def _dvc_files(path: Path) -> list[str]:
    """`dvc.yaml` of each artifact folder the tags name (the dashboard reads them at HEAD)."""
    folders = {""}
    for ref in gitio.local_refs(path, "refs/tags"):
        parsed = parse_tag(ref[10:])
        if parsed is not None:
            folders.add(split_name(parsed.artifact)[0])
    return sorted(f"{folder}/dvc.yaml" if folder else "dvc.yaml" for folder in folders)


def _copy_config(path: Path) -> None:
    """`.gto` of the remote's HEAD into the cache's folder (or none, if HEAD has none)."""
    target = path / CONFIG_FILE
    found = gitio.read_objects(path, [f"HEAD:{CONFIG_FILE}"]).get(f"HEAD:{CONFIG_FILE}")
    if found is None or found.kind != "blob":
        target.unlink(missing_ok=True)
        return
    scratch = target.with_name(f".{CONFIG_FILE}.new")
    scratch.write_bytes(found.data)  # byte for byte, as a checkout would write it
    scratch.replace(target)


def _index_file(path: Path) -> str:
    try:
        return load_config(path).index
    except StagetagError:  # the registry warns about a broken `.gto` itself
        return DEFAULT_INDEX
