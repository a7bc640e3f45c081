"""`stagetag doctor`: GTO's `doctor`, the version, the config in effect and the registry's
problems.

Laid out as gto 1.10.1 lays it out (a version line, the config as `KEY=value` lines between
two rules, then `No issues found`), so that the config block is byte-identical to gto's for a
repository without `.gto`. Two differences, on purpose: the version line names stagetag, and
the config is the one in effect (`.gto` and the `GTO_*` variables; gto shows only the
variables). Where gto stops at its first error, stagetag lists every problem, one line each,
and exits 1.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import click

from stagetag import gitio
from stagetag.ci_forms import load_dashboard_settings
from stagetag.config import CONFIG_FILE, load_config, settings_in_effect
from stagetag.entrypoint.read_commands import repo_option
from stagetag.errors import StagetagError
from stagetag.policy import load_policy
from stagetag.registry import load_registry
from stagetag.settings import load_settings

RULE = "-" * 33
GTO_VERSION = "1.10.1"  # the GTO whose output stagetag's matches

# GTO's settings, in the order and with the defaults its `doctor` prints them.
_DEFAULTS: dict[str, Any] = {
    "INDEX": "artifacts.yaml",
    "CONFIG_FILE_NAME": CONFIG_FILE,
    "LOG_LEVEL": "INFO",
    "DEBUG": False,
    "EMOJIS": True,
    "types": None,
    "stages": None,
    "enrichments": [],
    "autoload_enrichments": True,
}


def _version() -> str:
    try:
        return version("stagetag")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _settings(root: Path) -> dict[str, Any] | None:
    """GTO's settings as in effect for `root` (`.gto`, then `GTO_*`), or None if broken."""
    try:
        values = settings_in_effect(root)
    except StagetagError:
        return None
    shown = dict(_DEFAULTS)
    for key in _DEFAULTS:
        if key.lower() in values:
            value = values[key.lower()]
            shown[key] = list(value) if isinstance(value, tuple) else value
    return shown


def _repr(value: Any) -> str:
    """A value as pydantic's `__repr_str__` writes it."""
    if isinstance(value, list) and value and all(isinstance(e, dict) for e in value):
        return "[" + ", ".join(_enrichment(e) for e in value) + "]"
    return repr(value)


def _enrichment(entry: dict[str, Any]) -> str:
    return f"EnrichmentConfig(type={entry.get('type')!r}, config={entry.get('config') or {}!r})"


def problems_of(root: Path) -> list[str]:
    """Everything that makes GTO fail or stagetag skip something, one line each."""
    found: list[str] = []
    try:
        load_config(root)
    except StagetagError as e:
        found.append(str(e))
    try:
        load_policy(load_settings(root))
    except StagetagError as e:
        found.append(str(e))
    else:
        try:
            load_dashboard_settings(load_settings(root))
        except StagetagError as e:
            found.append(str(e))
    registry = load_registry(root)
    found.extend(p for p in registry.problems if p.removesuffix("; ignoring it") not in found)
    return found


@click.command()
@repo_option
def doctor(repo: Path) -> int:
    """Show stagetag's version and the config in effect, and check the registry for
    problems (GTO's `doctor`); exit 1 if there are any."""
    root = gitio.repo_root(repo)
    settings = _settings(root)
    emojis = settings is None or bool(settings["EMOJIS"])
    gto, ok, fail = ("🪴  ", "✅  ", "❌  ") if emojis else (" ", " ", " ")
    click.echo(f"{gto}stagetag Version: {_version()} (GTO {GTO_VERSION} compatible)")
    click.echo(RULE)
    if settings is None:
        click.echo(f"{fail}Fail to parse config")
    else:
        for key, value in settings.items():
            click.echo(f"{key}={_repr(value)}")
    click.echo(RULE)
    problems = problems_of(root)
    for problem in problems:
        click.echo(f"{fail}{problem}")
    if problems:
        return 1
    click.echo(f"{ok}No issues found")
    return 0
