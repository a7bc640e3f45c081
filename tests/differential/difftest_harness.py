"""Run the same commands through gto (the oracle) and stagetag, and report every difference.

The oracle is ``$GTO_ORACLE`` (default ``.venv-gto/bin/gto``). The CLI under test is ``stagetag`` on
PATH, or ``$STAGETAG_UNDER_TEST`` (point it at the gto binary to check the harness itself). Both
CLIs are click console scripts, so a whole batch of commands runs in one interpreter through
``cli_driver.py``: gto spends ~0.4 s importing itself and only ~15 ms per command after that.
"""

from __future__ import annotations

import base64
import difflib
import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import IDENTITY

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("cli_driver.py")
# Caps on a failure report, so that one crash does not bury the other mismatches.
MAX_REPORTS = 12
MAX_DIFF_LINES = 40
MAX_STDERR_LINES = 6
_ENTRY_RE = re.compile(r"^from ([\w.]+) import (\w+)$", re.MULTILINE)
# Read at import (collection) time: conftest's autouse fixture strips GTO_* before each test runs.
_ORACLE_SETTING = os.environ.get("GTO_ORACLE")
_UNDER_TEST_SETTING = os.environ.get("STAGETAG_UNDER_TEST")


@dataclass(frozen=True)
class Outcome:
    """What one invocation produced; only stdout and the exit code are compared."""

    stdout: bytes
    stderr: str
    exit: int


@dataclass(frozen=True)
class Cli:
    """A click console script, run in-process in its own venv's interpreter when possible."""

    label: str
    script: Path

    def _entry(self) -> tuple[str, str, str] | None:
        """(python, module, attr) parsed from a pip-generated console script, if it is one."""
        try:
            text = self.script.read_text()
        except (OSError, UnicodeDecodeError):
            return None
        match = _ENTRY_RE.search(text)
        if not text.startswith("#!") or match is None:
            return None
        python = text.splitlines()[0][2:].strip()
        return python, match.group(1), match.group(2)

    def run(
        self, argvs: Sequence[Sequence[str]], cwd: Path, env: dict[str, str], batch: bool = True
    ) -> list[Outcome]:
        """Run every argv with `cwd` as working directory; in one process unless `batch` is off."""
        entry = self._entry() if batch else None
        if entry is None:
            return [self._run_one(argv, cwd, env) for argv in argvs]
        python, module, attr = entry
        payload = json.dumps([{"argv": list(argv), "cwd": str(cwd)} for argv in argvs])
        proc = subprocess.run(
            [python, str(DRIVER), module, attr],
            input=payload,
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{self.label} driver failed:\n{proc.stderr}")
        return [
            Outcome(base64.b64decode(item["stdout"]), item["stderr"], item["exit"])
            for item in json.loads(proc.stdout)
        ]

    def _run_one(self, argv: Sequence[str], cwd: Path, env: dict[str, str]) -> Outcome:
        proc = subprocess.run(
            [str(self.script), *argv], capture_output=True, cwd=cwd, env=env, check=False
        )
        return Outcome(proc.stdout, proc.stderr.decode(errors="replace"), proc.returncode)


def oracle() -> Cli:
    """The real gto 1.10.1; skips the test when it is not installed."""
    script = Path(_ORACLE_SETTING or ROOT / ".venv-gto" / "bin" / "gto")
    if not script.exists():
        pytest.skip(f"gto oracle not found at {script} (set GTO_ORACLE or run `make test`)")
    return Cli("gto", script)


def under_test() -> Cli:
    """stagetag from PATH, or whatever $STAGETAG_UNDER_TEST names."""
    found = _UNDER_TEST_SETTING or shutil.which("stagetag")
    if not found or not Path(found).exists():
        pytest.skip("stagetag is not on PATH (run `make test`, or set STAGETAG_UNDER_TEST)")
    return Cli("stagetag", Path(found))


def cli_env(home: Path) -> dict[str, str]:
    """A pinned, config-free environment: needed where the autouse fixture does not apply."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GTO_")}
    env.update(IDENTITY)
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        TZ="UTC",
        COLUMNS="200",
    )
    return env


@contextmanager
def pinned_environ(home: Path) -> Iterator[None]:
    """Apply `cli_env` to os.environ, for conftest's git helpers used outside a test function."""
    with pytest.MonkeyPatch.context() as patch:
        for key in [key for key in os.environ if key.startswith("GTO_")]:
            patch.delenv(key)
        for key, value in cli_env(home).items():
            patch.setenv(key, value)
        yield


def _show(data: bytes) -> list[str]:
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def describe_mismatch(argv: Sequence[str], expected: Outcome, actual: Outcome) -> str | None:
    """A readable report of how `actual` differs from gto's `expected`, or None if it does not."""
    if expected.exit == actual.exit and expected.stdout == actual.stdout:
        return None
    lines = [f"$ stagetag {shlex.join(argv)}"]
    if expected.exit != actual.exit:
        lines.append(f"exit code: gto {expected.exit}, stagetag {actual.exit}")
    if expected.stdout != actual.stdout:
        diff = list(
            difflib.unified_diff(
                _show(expected.stdout), _show(actual.stdout), "gto stdout", "stagetag stdout"
            )
        )
        if len(diff) > MAX_DIFF_LINES:
            diff = [*diff[:MAX_DIFF_LINES], f"... ({len(diff) - MAX_DIFF_LINES} more lines)\n"]
        text = "".join(diff) or f"(differ only in bytes) {expected.stdout!r} != {actual.stdout!r}"
        lines.append(text.rstrip("\n"))
    if actual.stderr.strip():
        tail = actual.stderr.rstrip("\n").splitlines()[-MAX_STDERR_LINES:]
        lines.append("stagetag stderr (tail):\n" + "\n".join(tail))
    return "\n".join(lines)


def compare(
    argvs: Sequence[Sequence[str]],
    cwd: Path,
    env: dict[str, str],
    context: str = "",
    batch: bool = True,
) -> None:
    """Fail with every mismatch at once; gto must succeed on every command we compare."""
    expected = oracle().run(argvs, cwd, env)
    broken = [
        f"$ gto {shlex.join(argv)} -> exit {out.exit}\n{out.stderr}"
        for argv, out in zip(argvs, expected, strict=True)
        if out.exit != 0
    ]
    assert not broken, "oracle failed (fixture bug):\n" + "\n".join(broken) + context
    actual = under_test().run(argvs, cwd, env, batch=batch)
    reports = [
        report
        for argv, want, got in zip(argvs, expected, actual, strict=True)
        if (report := describe_mismatch(argv, want, got)) is not None
    ]
    header = f"{len(reports)} of {len(argvs)} commands differ from gto 1.10.1"
    shown = reports[:MAX_REPORTS]
    if len(reports) > MAX_REPORTS:
        shown.append(f"... and {len(reports) - MAX_REPORTS} more")
    assert not reports, "\n\n".join([header, *shown]) + context
