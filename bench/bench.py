"""Time stagetag against the `git for-each-ref` floor and real gto on generated registries.

One table, side by side for 2,000, 50,000 and 200,000 tags (bench/generate.py, cached), of every
command's best wall-clock time (after an untimed warm-up run) and its peak memory: the largest
resident set of the command and of every process it started (`os.wait4`), each run in a fresh
process started by a small launcher (a child's peak starts at its parent's, so the one that
starts them must stay small). One-artifact rows act on generate.MEASURED, which has the same
size in every registry, so that whatever they spend beyond the 2,000-tag figure is the
registry's doing. `assign --push` pushes to a local bare copy of the registry from a scratch
clone of it, as does the plain `git push` of one tag it is compared with. Then a PASS/FAIL line
per criterion of issue 12. It is a report: the exit status is 0 whatever the figures, and rows
whose tool is missing are skipped. To add a row, append a `Command` to COMMANDS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from generate import MEASURED, Registry, cached_registry

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "git for-each-ref (the floor)"
# Every field a registry reader needs: name, tag object, type, peeled commit, tagger, date, message.
FLOOR_FORMAT = (
    "%(refname) %(objectname) %(objecttype) %(*objectname) "
    "%(taggername) %(taggeremail) %(taggerdate:raw) %(contents)"
)
GTO_MAX_SIZE = 2000  # gto needs seconds per command at 2,000 tags; larger registries take minutes.
GTO_REPEAT = 3


def new_second(context: dict[str, str]) -> dict[str, str]:
    """stagetag starts a new tag in a new second after the artifact's newest one (GTO orders
    by whole seconds): wait for it here, untimed, so that no timed run waits for the last."""
    time.sleep(1.1 - time.time() % 1)
    return {}


def new_tag(context: dict[str, str]) -> dict[str, str]:
    """A new non-GTO annotated tag in the clone, for the plain `git push` of one tag."""
    name = f"bench-probe-{time.time_ns()}"
    subprocess.run(["git", "-C", context["clone"], "tag", "-a", "-m", "probe", name], check=True)
    return {"probe": name}


@dataclass(frozen=True)
class Command:
    """One row. `argv` may use {stagetag}, {gto}, {git}, {ref} (an assignment of MEASURED
    halfway through its history), {prod_ref} (its last prod assignment), {scratch} (an empty
    folder per run) and whatever `prepare` returns; it runs in the registry, or with
    `in_clone` in the scratch clone whose `origin` is a bare copy of it."""

    label: str
    tool: str  # "git", "stagetag" or "gto": decides whether the row can run
    argv: tuple[str, ...]
    in_clone: bool = False
    prepare: Callable[[dict[str, str]], dict[str, str]] | None = None  # untimed, before each run
    gto_peer: str | None = None  # for a gto row: the stagetag row whose output it must equal
    lists_artifacts: bool = False  # stdout is `show --json`: its keys must be the artifacts
    once: bool = False  # does not depend on the registry: measured at the first size only


SHOW = "stagetag show --json"
HISTORY = "stagetag history --json"
SHOW_NAME = f"stagetag show {MEASURED} --json"
CHECK_REF = "stagetag check-ref --json REF"
DISPATCH = "stagetag dispatch REF"
ASSIGN = f"stagetag assign {MEASURED} --push"
GIT_PUSH = "git push of one tag (push floor)"
DASHBOARD = "stagetag dashboard -o DIR"
VERSION = "stagetag --version"
HELP = "stagetag --help"

COMMANDS = (
    Command(FLOOR, "git", ("{git}", "for-each-ref", "refs/tags", f"--format={FLOOR_FORMAT}")),
    Command(SHOW, "stagetag", ("{stagetag}", "show", "--json"), lists_artifacts=True),
    Command(HISTORY, "stagetag", ("{stagetag}", "history", "--json")),
    Command(SHOW_NAME, "stagetag", ("{stagetag}", "show", MEASURED, "--json")),
    Command(CHECK_REF, "stagetag", ("{stagetag}", "check-ref", "--json", "{ref}")),
    Command(DISPATCH, "stagetag", ("{stagetag}", "dispatch", "--format", "json", "{prod_ref}")),
    Command(
        ASSIGN,
        "stagetag",
        (
            "{stagetag}",
            "assign",
            MEASURED,
            "--version",
            "v0.0.1",
            "--stage",
            "bench",
            "--force",
            "--push",
        ),
        in_clone=True,
        prepare=new_second,
    ),
    Command(
        GIT_PUSH,
        "git",
        ("{git}", "push", "--porcelain", "origin", "refs/tags/{probe}"),
        in_clone=True,
        prepare=new_tag,
    ),
    Command(DASHBOARD, "stagetag", ("{stagetag}", "dashboard", "-o", "{scratch}/site")),
    Command(VERSION, "stagetag", ("{stagetag}", "--version"), once=True),
    Command(HELP, "stagetag", ("{stagetag}", "--help"), once=True),
    Command(
        "gto show --json", "gto", ("{gto}", "show", "--json"), gto_peer=SHOW, lists_artifacts=True
    ),
    Command("gto history --json", "gto", ("{gto}", "history", "--json"), gto_peer=HISTORY),
    Command(
        f"gto show {MEASURED} --json",
        "gto",
        ("{gto}", "show", MEASURED, "--json"),
        gto_peer=SHOW_NAME,
    ),
    Command(
        "gto check-ref --json REF",
        "gto",
        ("{gto}", "check-ref", "--json", "{ref}"),
        gto_peer=CHECK_REF,
    ),
)


@dataclass(frozen=True)
class Criterion:
    """A criterion: `numerator` at `size` over `denominator` at `over` (best times), or with
    `peak_mb` the numerator's peak memory, against `limit`."""

    title: str
    numerator: str
    size: int
    limit: float
    denominator: str | None = None
    over: int | None = None  # the denominator's size; default `size`
    peak_mb: bool = False
    at_least: bool = False  # the ratio must be >= limit (else <=)


CRITERIA = (
    *(
        Criterion(f"1. {row} at 200,000 tags within 1.5x of 2,000", row, 200_000, 1.5, row, 2000)
        for row in (CHECK_REF, SHOW_NAME, DISPATCH, ASSIGN)
    ),
    Criterion("2. show --json at 50,000 tags within 2x of the floor", SHOW, 50_000, 2.0, FLOOR),
    Criterion(
        "2. history --json at 200,000 tags under 300 MB", HISTORY, 200_000, 300.0, peak_mb=True
    ),
    Criterion("3. --help within 1.2x of --version", HELP, 2000, 1.2, VERSION),
    # from earlier issues
    Criterion("dashboard within 2x of show --json at 50,000 tags", DASHBOARD, 50_000, 2.0, SHOW),
    Criterion(
        "gto show --json 30x slower at 2,000 tags",
        "gto show --json",
        2000,
        30.0,
        SHOW,
        at_least=True,
    ),
)


@dataclass
class Result:
    """What one row measured at one size; `status` is "ok" or why there are no figures. Of
    the output only a digest is kept, and for `lists_artifacts` rows the JSON's keys."""

    label: str
    argv: list[str]
    status: str = "ok"
    runs: list[float] = field(default_factory=list)
    peak_kb: int = 0
    digest: str = ""
    keys: list[str] = field(default_factory=list, repr=False)

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024


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


# Runs argv[2:] and writes its wall-clock seconds, peak KiB and exit status to argv[1]. Started
# with -S (no site), it stays a few MB: what its child's peak starts from.
LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as out:
    out.write(f"{seconds} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run_once(argv: list[str], cwd: Path, capture: bool) -> tuple[float, int, int, bytes, str]:
    """Wall-clock seconds, peak resident KiB (of the process and everything it started), exit
    status, stdout (if captured, else empty) and stderr of one run."""
    with tempfile.TemporaryDirectory(prefix="stagetag-bench-run-") as folder:
        report, out, err = (Path(folder) / name for name in ("report", "out", "err"))
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            subprocess.run(
                [sys.executable, "-S", "-c", LAUNCHER, str(report), *argv],
                cwd=cwd,
                stdout=stdout if capture else subprocess.DEVNULL,
                stderr=stderr,
                check=False,
            )
        seconds, peak, code = report.read_text().split()
        return (
            float(seconds),
            int(peak),
            int(code),
            out.read_bytes(),
            err.read_text(errors="replace"),
        )


def measure(
    command: Command, context: dict[str, str], cwd: Path, repeat: int, slow_repeat: int
) -> Result:
    """One untimed warm-up run that keeps the output for checks, then `repeat` timed runs, or
    `slow_repeat` if the warm-up took more than a second (cheap rows get many runs, so that
    a shared machine's noise does not decide a ratio)."""
    result = Result(command.label, list(command.argv))
    attempt, runs = 0, repeat
    while attempt <= runs:
        extra = command.prepare(context) if command.prepare else {}
        with tempfile.TemporaryDirectory(prefix="stagetag-bench-") as scratch:
            argv = [part.format(**context, **extra, scratch=scratch) for part in command.argv]
            seconds, peak, code, stdout, stderr = run_once(argv, cwd, capture=attempt == 0)
        if code != 0:
            last_line = stderr.strip().splitlines() or [""]
            result.status = f"failed (exit {code}): {last_line[-1][:70]}"
            return result
        result.argv = argv
        if attempt == 0:
            result.digest = hashlib.sha256(stdout).hexdigest()
            if command.lists_artifacts:
                result.keys = sorted(json.loads(stdout))
            runs = slow_repeat if seconds > 1.0 else repeat
        else:
            result.runs.append(seconds)
            result.peak_kb = max(result.peak_kb, peak)
        attempt += 1
    return result


def skip_reason(command: Command, tools: dict[str, str | None], size: int, first: bool) -> str:
    if tools[command.tool] is None:
        return f"skipped ({command.tool} not available)"
    if command.tool == "gto" and size > GTO_MAX_SIZE:
        return "-"
    if command.once and not first:
        return "-"
    return ""


def copy_repository(source: Path, target: Path, bare: bool) -> None:
    """A copy of a generated repository (bare: its .git only), with the packs hard-linked:
    git never changes a pack file, it writes new ones."""

    def copy(src: str, dst: str) -> None:
        if f"{os.sep}objects{os.sep}pack{os.sep}" in src:
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    if bare:
        shutil.copytree(source / ".git", target, copy_function=copy)
        subprocess.run(["git", "-C", str(target), "config", "core.bare", "true"], check=True)
    else:
        shutil.copytree(source, target, copy_function=copy)


def scratch_clone(registry: Registry, folder: Path) -> Path:
    """A clone of the registry (a copy, with every tag) whose `origin` is a bare copy of it."""
    copy_repository(registry.path, folder / "origin.git", bare=True)
    clone = folder / "clone"
    copy_repository(registry.path, clone, bare=False)
    subprocess.run(
        ["git", "-C", str(clone), "remote", "add", "origin", str(folder / "origin.git")],
        check=True,
    )
    return clone


def bench_size(
    registry: Registry, tools: dict[str, str | None], repeat: int, slow_repeat: int, first: bool
) -> dict[str, Result]:
    """Every row on one registry, in COMMANDS order."""
    context = {name: path or "" for name, path in tools.items()}
    context |= {"ref": registry.middle_ref, "prod_ref": registry.prod_ref}
    results = {}
    with tempfile.TemporaryDirectory(prefix="stagetag-bench-clone-") as folder:
        clone: Path | None = None
        for command in COMMANDS:
            reason = skip_reason(command, tools, registry.tags, first)
            if reason:
                results[command.label] = Result(command.label, list(command.argv), reason)
                continue
            if command.in_clone and clone is None:
                clone = scratch_clone(registry, Path(folder))
                context["clone"] = str(clone)
            cwd = clone if command.in_clone and clone else registry.path
            if command.tool == "gto":
                results[command.label] = measure(command, context, cwd, GTO_REPEAT, GTO_REPEAT)
            else:
                results[command.label] = measure(command, context, cwd, repeat, slow_repeat)
    return results


def output_checks(results: dict[str, Result], registry: Registry) -> list[str]:
    """Cheap sanity checks: fast but wrong output must not look like a win."""
    lines = []
    for command in COMMANDS:
        result = results.get(command.label)
        if result is None or result.status != "ok":
            continue
        if command.lists_artifacts:
            same = result.keys == sorted(registry.artifacts)
            lines.append(
                f"{command.label} lists the {len(registry.artifacts)} artifacts: "
                f"{'yes' if same else 'NO'}"
            )
        peer = results.get(command.gto_peer or "")
        if peer is not None and peer.status == "ok":
            same = result.digest == peer.digest
            lines.append(
                f"{command.label} output == {peer.label} output, byte for byte: "
                f"{'yes' if same else 'NO'}"
            )
    return lines


def cell(result: Result | None, floor: Result | None) -> str:
    if result is None:
        return ""
    if result.status != "ok":
        return result.status
    times_floor = f" {result.best / floor.best:4.1f}x" if floor and result is not floor else ""
    return f"{result.best:7.3f} s{times_floor} {result.peak_mb:5.0f} MB"


def table(by_size: dict[int, dict[str, Result]]) -> str:
    """Rows by command; per size: best seconds, x the floor at that size, peak MB; then the
    largest size's time over the smallest's."""
    sizes = sorted(by_size)
    header = ["command", *(f"{size:,} tags" for size in sizes), f"{sizes[-1]:,} / {sizes[0]:,}"]
    rows = []
    for command in COMMANDS:
        cells = [
            cell(by_size[s].get(command.label), None if command.once else by_size[s].get(FLOOR))
            for s in sizes
        ]
        low, high = (by_size[s].get(command.label) for s in (sizes[0], sizes[-1]))
        growth = (
            f"{high.best / low.best:.2f}x"
            if low and high and low.runs and high.runs and len(sizes) > 1
            else ""
        )
        rows.append([command.label, *cells, growth])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [
        " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join(lines)


def judge(criterion: Criterion, by_size: dict[int, dict[str, Result]]) -> dict[str, object]:
    """PASS / FAIL / SKIP with the numbers behind it."""
    top = by_size.get(criterion.size, {}).get(criterion.numerator)
    if top is None or top.status != "ok":
        return {"criterion": criterion.title, "verdict": "SKIP", "detail": "not measured"}
    if criterion.peak_mb:
        value, detail = top.peak_mb, f"{top.peak_mb:.0f} MB peak"
    else:
        over = criterion.over or criterion.size
        assert criterion.denominator is not None
        bottom = by_size.get(over, {}).get(criterion.denominator)
        if bottom is None or bottom.status != "ok":
            return {"criterion": criterion.title, "verdict": "SKIP", "detail": "not measured"}
        value = top.best / bottom.best
        detail = f"{top.best:.3f} s / {bottom.best:.3f} s = {value:.2f}x"
    passed = value >= criterion.limit if criterion.at_least else value <= criterion.limit
    verdict = "PASS" if passed else "FAIL"
    return {"criterion": criterion.title, "verdict": verdict, "detail": detail, "value": value}


def beyond_push(by_size: dict[int, dict[str, Result]], big: int, small: int) -> str | None:
    """What `assign --push` costs beyond git's own push of one tag, at `big` over `small`:
    the part of its time that is stagetag's (and its fetch's) rather than the push's."""
    try:
        extra = {
            size: by_size[size][ASSIGN].best - by_size[size][GIT_PUSH].best for size in (big, small)
        }
        floor = {size: by_size[size][GIT_PUSH].best for size in (big, small)}
    except (KeyError, ValueError):  # a row missing, or skipped (no runs)
        return None
    return (
        f"git push of one tag alone at {big:,} tags is {floor[big] / floor[small]:.1f}x that at "
        f"{small:,} (git lists every remote ref); assign --push beyond it: "
        f"{extra[big]:.3f} s / {extra[small]:.3f} s = {extra[big] / extra[small]:.2f}x"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,50000,200000", help="comma-separated tag counts")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per row")
    parser.add_argument(
        "--repeat-slow", type=int, default=3, help="timed runs of a row taking over a second"
    )
    parser.add_argument("--no-gto", action="store_true", help="skip the real gto rows")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.repeat < 1 or args.repeat_slow < 1:
        parser.error("--repeat and --repeat-slow must be at least 1")
    return args


def environment() -> str:
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{git_version.strip()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load} at the start"
    )


def main() -> None:
    args = parse_args()
    for role in ("AUTHOR", "COMMITTER"):  # the tags `assign` and the push row make
        os.environ.setdefault(f"GIT_{role}_NAME", "stagetag bench")
        os.environ.setdefault(f"GIT_{role}_EMAIL", "bench@example.com")
    tools = find_tools(args.no_gto)
    started = time.perf_counter()
    print(f"# stagetag benchmark ({environment()})")
    print("# tools: " + ", ".join(f"{name}={path or '-'}" for name, path in tools.items()))
    by_size: dict[int, dict[str, Result]] = {}
    registries: dict[int, Registry] = {}
    for index, size in enumerate(sorted(int(text) for text in args.sizes.split(","))):
        registry, cached = cached_registry(size)
        registries[size] = registry
        print(
            f"# {size:,} tags: {len(registry.artifacts)} artifacts, {MEASURED} has "
            f"{registry.measured_tags} tags ({'cached' if cached else 'generated now'}, "
            f"generation took {registry.generation_seconds:.1f} s); REF = {registry.middle_ref}"
        )
        by_size[size] = bench_size(registry, tools, args.repeat, args.repeat_slow, index == 0)
    print(
        f"\nbest of {args.repeat} timed runs ({args.repeat_slow} for a row over a second, gto "
        f"{GTO_REPEAT}), x = times the floor at that size, MB = peak memory of the largest "
        "process\n"
    )
    print(table(by_size))
    print()
    for size, results in by_size.items():
        for line in output_checks(results, registries[size]):
            print(f"check at {size:,} tags: {line}")
    print("\n## criteria")
    verdicts = [judge(criterion, by_size) for criterion in CRITERIA]
    for verdict in verdicts:
        print(f"{verdict['verdict']}  {verdict['criterion']}: {verdict['detail']}")
    if context := beyond_push(by_size, 200_000, 2000):
        print(f"note  {context}")
    print(f"\n# the benchmark took {time.perf_counter() - started:.0f} s")
    if args.json:
        report = {
            "environment": environment(),
            "tools": tools,
            "sizes": {
                str(size): {
                    "registry": asdict(registries[size]) | {"path": str(registries[size].path)},
                    "rows": [
                        {k: v for k, v in asdict(r).items() if k != "keys"}
                        for r in results.values()
                    ],
                }
                for size, results in by_size.items()
            },
            "criteria": verdicts,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
