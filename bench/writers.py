"""How long N writers racing on one remote take to all land (issue 11's liveness figure).

Each writer is its own clone of one bare remote and runs one `stagetag assign --push` (a third
to prod, the rest to other stages or to new commits, which register first), all started at
once. Prints the wall time until the last one is done and how many failed (none should).
A report: the exit status is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def writes(writers: int) -> list[tuple[list[str], bool]]:
    """The writes, each with whether it needs a commit of its own first."""
    kinds: list[tuple[list[str], bool]] = [
        (["assign", "m", "--stage", "prod", "--version", "v0.0.1", "--force"], False),
        (["assign", "m", "--stage", "staging", "--version", "v0.0.1", "--force"], False),
        (["assign", "m", "--stage", "prod"], True),
        (["assign", "m", "--stage", "qa"], True),
        (["register", "m"], True),
        (["assign", "m", "--stage", "prod", "--version", "v0.0.1", "--force"], False),
    ]
    return [kinds[i % len(kinds)] for i in range(writers)]


def race(base: Path, stagetag: str, writers: int) -> tuple[float, int]:
    bare = base / "origin.git"
    git(base, "init", "-q", "--bare", "-b", "main", str(bare))
    seed = base / "seed"
    git(base, "clone", "-q", str(bare), str(seed))
    git(seed, "commit", "-q", "--allow-empty", "-m", "c1")
    git(seed, "push", "-q", "origin", "HEAD:main")
    subprocess.run([stagetag, "register", "m", "--push"], cwd=seed, check=True, capture_output=True)
    clones = []
    for index, (argv, commits) in enumerate(writes(writers)):
        repo = base / f"w{index}"
        git(base, "clone", "-q", str(bare), str(repo))
        if commits:
            git(repo, "commit", "-q", "--allow-empty", "-m", f"w{index}")
        clones.append((repo, [*argv, "--push", "-m", f"writer {index}"]))
    start = time.monotonic()
    procs = [
        subprocess.Popen(
            [stagetag, *argv], cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for repo, argv in clones
    ]
    failed = sum(proc.wait() != 0 for proc in procs)
    return time.monotonic() - start, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--stagetag", default=shutil.which("stagetag") or "stagetag")
    args = parser.parse_args()
    os.environ.update(IDENTITY)
    with tempfile.TemporaryDirectory(prefix="stagetag-writers-") as tmp:
        wall, failed = race(Path(tmp), args.stagetag, args.writers)
    print(f"\n{args.writers} writers on one remote (os.cpu_count()={os.cpu_count()}):")
    print(f"  all done after {wall:.1f} s, {failed} failed")
    print(f"  {wall / args.writers:.2f} s per write")


if __name__ == "__main__":
    main()
