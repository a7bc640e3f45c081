"""Time `show --json -r URL` for stagetag (a partial cache per URL) against gto (a full clone
per call), on a generated registry served as a bare repository over `file://` and over
loopback smart HTTP (tests/fakehost.py).

    .venv/bin/python bench/remote.py [TAGS] [--runs N] [--gto-runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(HERE))

from fakehost import serve  # noqa: E402
from generate import cached_registry  # noqa: E402

STAGETAG = ROOT / ".venv" / "bin" / "stagetag"
GTO = ROOT / ".venv-gto" / "bin" / "gto"


def timed(argv: list[str], env: dict[str, str], before: Callable[[], None] | None = None) -> float:
    if before:
        before()
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - start


def best(
    runs: int, argv: list[str], env: dict[str, str], before: Callable[[], None] | None = None
) -> float:
    return min(timed(argv, env, before) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tags", nargs="?", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--gto-runs", type=int, default=3)
    args = parser.parse_args()
    registry, _ = cached_registry(args.tags)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        bare = root / "host" / "o" / "r.git"
        bare.parent.mkdir(parents=True)
        subprocess.run(["git", "clone", "-q", "--bare", str(registry.path), str(bare)], check=True)
        # What GitHub and GitLab allow; without it git ignores the filter and sends blobs too.
        subprocess.run(["git", "-C", str(bare), "config", "uploadpack.allowFilter", "true"])
        cache = root / "cache"
        env = {**os.environ, "XDG_CACHE_HOME": str(cache), "HOME": str(root)}
        clear = lambda: shutil.rmtree(cache, ignore_errors=True)  # noqa: E731
        rows = []
        with serve(root / "host") as host:
            for label, url in [("file://", f"file://{bare}"), ("http://", f"{host.url}/o/r.git")]:
                show = ["show", "--json", "-r", url]
                rows.append(
                    (
                        f"stagetag show --json -r {label} (cold cache)",
                        best(args.runs, [str(STAGETAG), *show], env, clear),
                    )
                )
                rows.append(
                    (
                        f"stagetag show --json -r {label} (warm cache)",
                        best(args.runs, [str(STAGETAG), *show], env),
                    )
                )
                rows.append(
                    (f"gto show --json -r {label}", best(args.gto_runs, [str(GTO), *show], env))
                )
            rows.append(
                (
                    "stagetag show --json -r BARE",
                    best(args.runs, [str(STAGETAG), "show", "--json", "-r", str(bare)], env),
                )
            )
            rows.append(
                (
                    "stagetag show --json (work tree)",
                    best(
                        args.runs, [str(STAGETAG), "show", "--json", "-r", str(registry.path)], env
                    ),
                )
            )
            size = subprocess.run(["du", "-sk", str(cache)], capture_output=True, text=True)
    print(
        f"{registry.tags} tags, {len(registry.artifacts)} artifacts; best of "
        f"{args.runs} (gto: {args.gto_runs})"
    )
    for label, seconds in rows:
        print(f"  {label:48} {seconds:7.3f} s")
    print(f"  cache size: {size.stdout.split()[0]} KiB")


if __name__ == "__main__":
    main()
