"""Time stagetag against the `git for-each-ref` floor and real gto on generated registries.

Prints one table per registry size and a PASS/FAIL line per success criterion. It is a report:
the exit status is 0 whatever the figures, and rows whose tool is missing are skipped.
To add a row, append a `Command` to COMMANDS.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from generate import Registry, cached_registry

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "git for-each-ref"
# Every field a registry reader needs: name, tag object, type, peeled commit, tagger, date, message.
FLOOR_FORMAT = (
    "%(refname) %(objectname) %(objecttype) %(*objectname) "
    "%(taggername) %(taggeremail) %(taggerdate:raw) %(contents)"
)
GTO_MAX_SIZE = 2000  # gto needs ~6 s per `show` at 2,000 tags; larger registries take minutes.
GTO_REPEAT = 3


@dataclass(frozen=True)
class Command:
    """One table row. `argv` may use {stagetag}, {gto}, {ref} (a mid-registry assignment tag)
    and {scratch} (an empty directory per run, for commands that write files)."""

    label: str
    tool: str  # "git", "stagetag" or "gto": decides whether the row can run
    argv: tuple[str, ...]
    gto_peer: str | None = None  # for a gto row: the stagetag row it is compared with
    lists_artifacts: bool = False  # stdout is `show --json`: its keys must be the artifacts


COMMANDS = (
    Command(FLOOR, "git", ("git", "for-each-ref", "refs/tags", f"--format={FLOOR_FORMAT}")),
    Command(
        "stagetag show --json", "stagetag", ("{stagetag}", "show", "--json"), lists_artifacts=True
    ),
    Command(
        "stagetag check-ref --json", "stagetag", ("{stagetag}", "check-ref", "--json", "{ref}")
    ),
    Command("stagetag dashboard", "stagetag", ("{stagetag}", "dashboard", "-o", "{scratch}/site")),
    Command(
        "gto show --json",
        "gto",
        ("{gto}", "show", "--json"),
        gto_peer="stagetag show --json",
        lists_artifacts=True,
    ),
    Command(
        "gto check-ref --json",
        "gto",
        ("{gto}", "check-ref", "--json", "{ref}"),
        gto_peer="stagetag check-ref --json",
    ),
)


@dataclass(frozen=True)
class Criterion:
    """A success criterion from the issue: `numerator / denominator` (best times) vs `limit`."""

    size: int
    numerator: str
    denominator: str
    at_least: bool  # True: the ratio must be >= limit; False: <= limit
    limit: float


CRITERIA = (
    Criterion(50_000, "stagetag show --json", FLOOR, at_least=False, limit=3.0),
    # The dashboard reads the same state as `show` and renders a page per artifact on top.
    Criterion(50_000, "stagetag dashboard", "stagetag show --json", at_least=False, limit=2.0),
    Criterion(2_000, "gto show --json", "stagetag show --json", at_least=True, limit=30.0),
)


@dataclass
class Result:
    """What one row measured; `status` is "ok" or why the row has no figures."""

    label: str
    argv: list[str]
    status: str = "ok"
    runs: list[float] = field(default_factory=list)
    stdout: str = field(default="", repr=False)

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def find_tools(no_gto: bool) -> dict[str, str | None]:
    """Resolve each tool to an executable, or None; stagetag must at least answer --help."""
    stagetag = shutil.which("stagetag")
    if stagetag and subprocess.run([stagetag, "--help"], capture_output=True).returncode != 0:
        stagetag = None
    gto = os.environ.get("GTO_ORACLE", str(ROOT / ".venv-gto" / "bin" / "gto"))
    usable_gto = None if no_gto or not os.access(gto, os.X_OK) else gto
    found = {"git": shutil.which("git"), "stagetag": stagetag, "gto": usable_gto}
    # Absolute, because the commands run inside the registry and PATH may hold `.venv/bin`.
    return {name: path and os.path.abspath(path) for name, path in found.items()}


def run_once(
    argv: list[str], cwd: Path, capture: bool
) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Wall-clock seconds for one run; output goes to /dev/null unless captured."""
    sink = subprocess.PIPE if capture else subprocess.DEVNULL
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, stdout=sink, stderr=sink, text=True, check=False)
    return time.perf_counter() - start, done


def measure(command: Command, context: dict[str, str], cwd: Path, repeat: int) -> Result:
    """One untimed warm-up run that keeps the output for checks, then `repeat` timed runs."""
    result = Result(command.label, expand(command, context, scratch="{scratch}"))
    for attempt in range(repeat + 1):
        with tempfile.TemporaryDirectory(prefix="stagetag-bench-") as scratch:
            seconds, done = run_once(expand(command, context, scratch), cwd, capture=attempt == 0)
        if done.returncode != 0:
            last_line = (done.stderr or "").strip().splitlines() or [""]
            result.status = f"failed (exit {done.returncode}): {last_line[-1][:60]}"
            return result
        if attempt == 0:
            result.stdout = done.stdout
        else:
            result.runs.append(seconds)
    return result


def expand(command: Command, context: dict[str, str], scratch: str) -> list[str]:
    return [part.format(**context, scratch=scratch) for part in command.argv]


def skip_reason(command: Command, tools: dict[str, str | None], size: int) -> str | None:
    if tools[command.tool] is None:
        return f"skipped ({command.tool} not available)"
    if command.tool == "gto" and size > GTO_MAX_SIZE:
        return f"skipped (gto only at {GTO_MAX_SIZE:,} tags)"
    return None


def bench_size(registry: Registry, tools: dict[str, str | None], repeat: int) -> list[Result]:
    """Run every row on one registry, in COMMANDS order."""
    context = {name: path or "" for name, path in tools.items()} | {"ref": registry.middle_ref}
    results = []
    for command in COMMANDS:
        reason = skip_reason(command, tools, registry.tags)
        if reason:
            results.append(Result(command.label, list(command.argv), status=reason))
            continue
        runs = min(repeat, GTO_REPEAT) if command.tool == "gto" else repeat
        results.append(measure(command, context, registry.path, runs))
    return results


def by_label(results: list[Result]) -> dict[str, Result]:
    return {result.label: result for result in results if result.status == "ok"}


def output_checks(results: list[Result], registry: Registry) -> list[str]:
    """Cheap sanity checks: fast but wrong output must not look like a win."""
    measured = by_label(results)
    lines = []
    for command in COMMANDS:
        result = measured.get(command.label)
        if result and command.lists_artifacts:
            same = sorted(json.loads(result.stdout)) == sorted(registry.artifacts)
            lines.append(
                f"{command.label} lists the {len(registry.artifacts)} artifacts: "
                f"{'yes' if same else 'NO'}"
            )
        peer = measured.get(command.gto_peer or "")
        if result and peer:
            same = json.loads(result.stdout) == json.loads(peer.stdout)
            lines.append(
                f"{peer.label} output == {command.label} output: {'yes' if same else 'NO'}"
            )
    return lines


def table(results: list[Result]) -> str:
    """Plain columns: command | best s | median s | x for-each-ref | gto/stagetag."""
    measured = by_label(results)
    floor = measured.get(FLOOR)
    gto_for = {c.gto_peer: measured.get(c.label) for c in COMMANDS if c.gto_peer}
    header = ("command", "best s", "median s", f"x {FLOOR}", "gto/stagetag")
    rows = {
        result.label: (
            result.label,
            f"{result.best:.3f}",
            f"{result.median:.3f}",
            f"{result.best / floor.best:.1f}x" if floor else "",
            f"{gto.best / result.best:.1f}x" if (gto := gto_for.get(result.label)) else "",
        )
        for result in measured.values()
    }
    widths = [max(len(row[i]) for row in [header, *rows.values()]) for i in range(len(header))]
    widths[0] = max(widths[0], *(len(result.label) for result in results))
    lines = [format_row(header, widths)]
    for result in results:
        row = rows.get(result.label)
        lines.append(
            format_row(row, widths) if row else f"{result.label:<{widths[0]}} | {result.status}"
        )
    return "\n".join(lines)


def format_row(row: tuple[str, ...], widths: list[int]) -> str:
    numbers = zip(row[1:], widths[1:], strict=True)
    cells = [f"{row[0]:<{widths[0]}}"] + [f"{cell:>{width}}" for cell, width in numbers]
    return " | ".join(cells).rstrip()


def judge(criterion: Criterion, results_by_size: dict[int, list[Result]]) -> dict[str, object]:
    """PASS / FAIL / SKIP with the numbers behind it."""
    relation = ">=" if criterion.at_least else "<="
    title = (
        f"{criterion.size:,} tags: {criterion.numerator} / {criterion.denominator} "
        f"{relation} {criterion.limit:g}"
    )
    measured = by_label(results_by_size.get(criterion.size, []))
    top, bottom = measured.get(criterion.numerator), measured.get(criterion.denominator)
    if not top or not bottom:
        return {"criterion": title, "verdict": "SKIP", "detail": "not measured in this run"}
    ratio = top.best / bottom.best
    passed = ratio >= criterion.limit if criterion.at_least else ratio <= criterion.limit
    detail = f"{top.best:.3f} s / {bottom.best:.3f} s = {ratio:.1f}x (best of runs)"
    return {
        "criterion": title,
        "verdict": "PASS" if passed else "FAIL",
        "detail": detail,
        "ratio": ratio,
    }


def row_report(result: Result) -> dict[str, object]:
    figures = {"best": result.best, "median": result.median} if result.runs else {}
    return {k: v for k, v in asdict(result).items() if k != "stdout"} | figures


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,50000", help="comma-separated tag counts")
    parser.add_argument(
        "--repeat", type=int, default=5, help=f"timed runs (gto: at most {GTO_REPEAT})"
    )
    parser.add_argument("--no-gto", action="store_true", help="skip the real gto rows")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def environment() -> str:
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    return f"{git_version.strip()}, Python {platform.python_version()}, {os.cpu_count()} CPUs"


def main() -> None:
    args = parse_args()
    tools = find_tools(args.no_gto)
    print(f"# stagetag benchmark ({environment()})")
    print("# tools: " + ", ".join(f"{name}={path or '-'}" for name, path in tools.items()))
    sizes_report: dict[str, object] = {}
    results_by_size: dict[int, list[Result]] = {}
    for size in (int(text) for text in args.sizes.split(",")):
        registry, cached = cached_registry(size)
        origin = "cached" if cached else "generated now"
        print(
            f"\n## {size:,} tags, {len(registry.artifacts)} artifacts ({origin}; generation "
            f"took {registry.generation_seconds:.2f} s), check-ref on {registry.middle_ref}"
        )
        print(f"## {registry.path}")
        results = bench_size(registry, tools, args.repeat)
        results_by_size[size] = results
        print(table(results))
        for line in output_checks(results, registry):
            print(f"check: {line}")
        sizes_report[str(size)] = {
            "registry": asdict(registry) | {"path": str(registry.path), "cached": cached},
            "rows": [row_report(result) for result in results],
        }
    print("\n## criteria")
    verdicts = [judge(criterion, results_by_size) for criterion in CRITERIA]
    for verdict in verdicts:
        print(f"{verdict['verdict']}  {verdict['criterion']}: {verdict['detail']}")
    if args.json:
        report = {"environment": environment(), "tools": tools, "sizes": sizes_report}
        args.json.write_text(json.dumps(report | {"criteria": verdicts}, indent=2) + "\n")


if __name__ == "__main__":
    main()
