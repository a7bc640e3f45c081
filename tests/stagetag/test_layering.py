"""The layers hold: entrypoint -> dispatcher and presentation -> the core, never upward; the
core imports no Jinja; and only one module of the core (gitio) starts processes."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import stagetag

PACKAGE = Path(stagetag.__file__).parent
CORE = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
ABOVE_THE_CORE = ("stagetag.dispatcher", "stagetag.entrypoint", "stagetag.presentation")


def imported_by(module: str) -> set[str]:
    """Every module loaded by importing `module` in a fresh interpreter."""
    probe = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(json.loads(out))


def test_reading_the_registry_imports_no_jinja() -> None:
    assert "jinja2" not in imported_by("stagetag.registry")


@pytest.mark.parametrize("name", CORE)
def test_the_core_imports_nothing_above_it(name: str) -> None:
    loaded = imported_by(f"stagetag.{name}")
    assert "jinja2" not in loaded
    assert not [m for m in loaded if m.startswith(ABOVE_THE_CORE)]


def test_the_dispatcher_and_the_views_never_import_the_entry_points() -> None:
    for module in ("stagetag.dispatcher.dispatch", "stagetag.presentation.dashboard"):
        assert not [m for m in imported_by(module) if m.startswith("stagetag.entrypoint")]


def test_only_gitio_starts_processes_in_the_core() -> None:
    starters = []
    for name in CORE:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n.split(".")[0] == "subprocess" for n in names):
                starters.append(name)
    assert starters == ["gitio"]
