"""Every read command with `-r` a bare repository, a `file://` URL and a loopback smart-HTTP URL
answers byte for byte as it does in a local clone; the URL cache follows the remote, keeps
credentials out of paths and messages, and an unreachable URL is one line."""

from __future__ import annotations

import filecmp
import os
import socket
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import GitRepo, make_repo, run_stagetag
from fakehost import FakeHost, serve

READS = [
    ["show", "--json"],
    ["show"],
    ["show", "--md"],
    ["show", "-d", "--json"],
    ["show", "m", "--json"],
    ["show", "m"],
    ["show", "nlp/x:bert", "--json"],
    ["show", "m#prod", "--version"],
    ["show", "m@latest", "--ref"],
    ["history", "--json"],
    ["history"],
    ["history", "m", "--md"],
    ["check-ref", "m#prod#1", "--json"],
    ["check-ref", "refs/tags/m@v1.1.0", "--version"],
    ["stages"],
    ["stages", "--json"],
    ["stages", "--allowed", "--json"],
    ["stages", "--used", "--json"],
]
CONFIG = "stages: [dev, staging, prod]\n"


@dataclass
class Upstream:
    work: GitRepo  # where tags are made, pushed to the bare repository
    bare: Path  # served by the fake host as o/r
    local: Path  # a clone of it: what every `-r` must answer like
    host: FakeHost
    cache: Path  # XDG_CACHE_HOME of the calls

    @property
    def http(self) -> str:
        return self.host.clone_url("o/r")

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {"XDG_CACHE_HOME": str(self.cache)}
        return run_stagetag(*args, cwd=cwd or self.local, env=env)

    def push(self, *refspecs: str) -> None:
        self.work.git("push", "-q", str(self.bare), *refspecs)


def _annotations(description: str) -> str:
    return f"m:\n  type: model\n  path: models/m.pkl\n  description: {description}\n"


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[Upstream]:
    work = make_repo(tmp_path / "work")
    (work.path / ".gto").write_text(CONFIG)
    (work.path / "nlp" / "x").mkdir(parents=True)
    (work.path / "nlp" / "x" / "dvc.yaml").write_text(
        "artifacts:\n  bert:\n    type: model\n    path: bert.pt\n    desc: a folder model\n"
    )
    commits = []
    for index in range(5):  # artifacts.yaml differs at each version's commit
        (work.path / "artifacts.yaml").write_text(_annotations(f"version {index}"))
        commits.append(work.commit(f"c{index}", f"2024-01-0{index + 1}T12:00:00+0000"))
        work.tag(f"m@v1.{index}.0", commits[-1], f"2024-02-0{index + 1}T00:00:00+0000")
    work.tag("m#prod#1", commits[0], "2024-02-10T00:00:00+0000")
    work.tag("m#staging#2", commits[1], "2024-02-11T00:00:00+0000")
    work.tag("nlp/x=bert@v0.1.0", commits[2], "2024-02-12T00:00:00+0000")
    work.tag("nlp/x=bert#dev#1", commits[2], "2024-02-13T00:00:00+0000")
    work.tag("old@v0.0.1", commits[0], "2024-02-01T00:00:00+0000")
    work.tag("old@deprecated", commits[0], "2024-02-14T00:00:00+0000")
    work.lightweight_tag("release-1", commits[3])
    root = tmp_path / "host"
    bare = root / "o" / "r.git"
    bare.parent.mkdir(parents=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work.path), str(bare)], check=True)
    subprocess.run(["git", "-C", str(bare), "config", "uploadpack.allowFilter", "true"], check=True)
    subprocess.run(["git", "-C", str(bare), "config", "http.receivepack", "true"], check=True)
    # GTO reads `.gto` of a bare repository from its folder (it has no work tree)
    (bare / ".gto").write_text(CONFIG)
    local = tmp_path / "local"
    subprocess.run(["git", "clone", "-q", str(bare), str(local)], check=True)
    with serve(root) as host:
        yield Upstream(work, bare, local, host, tmp_path / "cache")


def _sources(up: Upstream) -> dict[str, str]:
    return {"bare": str(up.bare), "file": f"file://{up.bare}", "http": up.http}


@pytest.mark.parametrize("kind", ["bare", "file", "http"])
def test_every_read_command_answers_as_in_a_local_clone(upstream: Upstream, kind: str) -> None:
    source = _sources(upstream)[kind]
    elsewhere = upstream.local.parent  # not inside any repository
    for argv in READS:
        want = upstream.run(*argv)
        got = upstream.run(*argv, "-r", source, cwd=elsewhere)
        assert want.returncode == 0, want.stderr
        assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, ""), argv


@pytest.mark.parametrize("kind", ["bare", "file", "http"])
def test_dashboard_is_the_same_site(upstream: Upstream, kind: str, tmp_path: Path) -> None:
    want = upstream.run("dashboard", "-o", str(tmp_path / "want"))
    got = upstream.run("dashboard", "-o", str(tmp_path / "got"), "-r", _sources(upstream)[kind])
    assert want.returncode == got.returncode == 0, want.stderr + got.stderr
    compared = filecmp.dircmp(tmp_path / "want", tmp_path / "got")
    assert not compared.left_only and not compared.right_only and not compared.diff_files
    pages = sorted(p.name for p in (tmp_path / "got" / "models").iterdir())
    assert len(pages) == 3, pages
    for sub in compared.subdirs.values():
        assert not sub.left_only and not sub.right_only and not sub.diff_files


def _fetches(trace: Path) -> int:
    """How many `git fetch` processes ran (git's lazy fetch starts one per missing object)."""
    return sum("built-in: git fetch" in line for line in trace.read_text().splitlines())


def test_blobs_come_in_one_batch_and_only_once(upstream: Upstream, tmp_path: Path) -> None:
    """`show m --json` reads artifacts.yaml at five commits: one fetch for the refs, one for
    the five blobs (and .gto, dvc.yaml); the next call, with nothing new, only the refs."""
    cold, warm = tmp_path / "cold.trace", tmp_path / "warm.trace"
    want = upstream.run("show", "m", "--json").stdout
    for trace in (cold, warm):
        result = run_stagetag(
            "show", "m", "--json", "-r", upstream.http, cwd=tmp_path,
            env={"XDG_CACHE_HOME": str(upstream.cache), "GIT_TRACE": str(trace)},
        )  # fmt: skip
        assert (result.returncode, result.stdout) == (0, want), result.stderr
    assert (_fetches(cold), _fetches(warm)) == (2, 1)
    assert "version 4" in want and "version 0" in want  # five artifacts.yaml were read


def test_the_cache_follows_the_remote(upstream: Upstream, tmp_path: Path) -> None:
    def tags() -> set[str]:
        result = upstream.run("history", "--json", "-r", upstream.http, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return {line.split('"')[3] for line in result.stdout.splitlines() if '"ref"' in line}

    assert "m#prod#1" in tags()
    head = upstream.work.git("rev-parse", "HEAD")
    upstream.work.tag("m#prod#3", head, "2024-03-01T00:00:00+0000")
    upstream.push("refs/tags/m#prod#3")
    upstream.push(":refs/tags/m#prod#1")
    after = tags()
    assert "m#prod#3" in after and "m#prod#1" not in after
    # a new `.gto` on the default branch: the stages come from there, as in a fresh clone
    (upstream.work.path / ".gto").write_text("stages: [qa, prod]\n")
    upstream.work.git("commit", "-qam", "fewer stages")
    upstream.push("HEAD:main")
    result = upstream.run("stages", "--allowed", "--json", "-r", upstream.http, cwd=tmp_path)
    assert result.stdout == '[\n    "qa",\n    "prod"\n]\n', result.stderr
    # a moved tag is moved in the cache too
    upstream.work.git("tag", "-f", "-a", "-m", "moved", "m#prod#3", f"{head}~1")
    upstream.push("+refs/tags/m#prod#3")
    moved = upstream.run("check-ref", "m#prod#3", "--version", "-r", upstream.http, cwd=tmp_path)
    assert moved.stdout == "v1.3.0\n", moved.stderr


def test_concurrent_calls_share_one_cache(upstream: Upstream, tmp_path: Path) -> None:
    want = upstream.run("show", "--json").stdout

    def call(_: int) -> tuple[int, str, str]:
        result = upstream.run("show", "--json", "-r", upstream.http, cwd=tmp_path)
        return result.returncode, result.stdout, result.stderr

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(call, range(6)))
    assert results == [(0, want, "")] * 6
    assert len(list((upstream.cache / "stagetag" / "remotes").glob("*.git"))) == 1


def test_credentials_stay_out_of_paths_files_and_messages(upstream: Upstream) -> None:
    secret = "s3cr3t-t0ken"
    url = upstream.http.replace("http://", f"http://x-access-token:{secret}@")
    want = upstream.run("show", "--json").stdout
    result = upstream.run("show", "--json", "-r", url)
    assert (result.returncode, result.stdout) == (0, want), result.stderr
    for path in upstream.cache.rglob("*"):
        assert secret not in str(path) and "x-access-token" not in str(path)
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    closed = _closed_port()
    bad = upstream.run("show", "-r", f"http://me:{secret}@127.0.0.1:{closed}/o/r.git")
    _assert_one_line(bad)
    assert secret not in bad.stderr and f"127.0.0.1:{closed}" in bad.stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _assert_one_line(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("stagetag: error: "), result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/o/r.git",
        "file:///nowhere/at/all.git",
        "{host}/o/missing.git",
    ],
)
def test_an_unreachable_url_is_one_line(upstream: Upstream, url: str, tmp_path: Path) -> None:
    url = url.format(port=_closed_port(), host=upstream.host.url)
    for command in (["show", "--json"], ["history"], ["check-ref", "m#prod#1"], ["stages"]):
        _assert_one_line(upstream.run(*command, "-r", url, cwd=tmp_path))
    remotes = upstream.cache / "stagetag" / "remotes"
    assert not list(remotes.glob("*.git")), "a failed first fetch leaves no cache"


def test_an_empty_remote_is_an_empty_registry(upstream: Upstream, tmp_path: Path) -> None:
    upstream.host.bare("o/empty")
    result = upstream.run("show", "--json", "-r", upstream.host.clone_url("o/empty"), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "{}\n"), result.stderr


def test_a_server_that_cannot_filter_still_answers(upstream: Upstream, tmp_path: Path) -> None:
    subprocess.run(["git", "-C", str(upstream.bare), "config", "uploadpack.allowFilter", "false"])
    want = upstream.run("show", "m", "--json").stdout
    result = upstream.run("show", "m", "--json", "-r", f"file://{upstream.bare}", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, want, "")


def test_a_bare_repository_reads_gto_from_its_folder(upstream: Upstream, tmp_path: Path) -> None:
    """As GTO: HEAD's `.gto` is not read in a bare repository (there is no work tree)."""
    os.remove(upstream.bare / ".gto")
    result = upstream.run("stages", "--allowed", "--json", "-r", str(upstream.bare), cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "null\n"), result.stderr
    inside = upstream.run("stages", "--used", "--json", cwd=upstream.bare / "refs")
    assert inside.returncode == 0 and '"prod"' in inside.stdout, inside.stderr
