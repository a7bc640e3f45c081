"""`.gto`, read as GTO 1.10.1 reads it: from the working tree root, keys case-insensitive,
`GTO_*` environment variables (JSON for lists) overriding the file, unknown keys refused."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stagetag.errors import StagetagError
from stagetag.grammar import NAME_RE

CONFIG_FILE = ".gto"

_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off"}


class _Invalid(Exception):
    """A value GTO's settings model would refuse; the message says why."""


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected text, found {type(value).__name__}")
    return value


def _flag(value: Any) -> bool:
    """A boolean as pydantic reads one: true/false, 1/0, yes/no, on/off."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _Invalid(f"expected true or false, found {value!r}")


def _names(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _Invalid(f"expected a list of names, found {type(value).__name__}")
    for name in value:
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise _Invalid(f"{name!r} is not a valid name")
    return tuple(value)


def _enrichments(value: Any) -> list[Any]:
    if not isinstance(value, list) or not all(
        isinstance(e, dict) and isinstance(e.get("type"), str) for e in value
    ):
        raise _Invalid("expected a list of {type: ..., config: ...} entries")
    return value


# Every key GTO accepts, with how to read it. Only `stages` and `index` change what stagetag
# does; the others are checked so that a `.gto` valid for GTO is valid here, and no more.
_KEYS: dict[str, Callable[[Any], Any]] = {
    "index": _text,
    "config_file_name": lambda v: None if v is None else _text(v),
    "log_level": _text,
    "debug": _flag,
    "emojis": _flag,
    "types": _names,
    "stages": _names,
    "enrichments": _enrichments,
    "autoload_enrichments": _flag,
}
_LIST_KEYS = {"types", "stages", "enrichments"}


@dataclass(frozen=True)
class RegistryConfig:
    stages: tuple[str, ...] | None = None  # None: any stage is allowed
    types: tuple[str, ...] | None = None
    index: str = "artifacts.yaml"


def settings_in_effect(root: Path, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Every GTO setting given, checked: `<root>/.gto`, then the `GTO_*` overrides (lowercase
    keys); raise StagetagError naming file and key."""
    path = root / CONFIG_FILE
    values: dict[str, Any] = {}
    for key, value in _read_file(path).items():
        if key not in _KEYS:
            raise StagetagError(
                f"{path}: unknown key {key!r}; allowed keys are {', '.join(sorted(_KEYS))}"
            )
        values[key] = _check(_KEYS[key], value, f"{path}: {key}")
    values.update(_read_env(environ))
    return values


def load_config(root: Path, environ: Mapping[str, str] = os.environ) -> RegistryConfig:
    """Read `<root>/.gto` and the `GTO_*` overrides; raise StagetagError naming file and key."""
    values = settings_in_effect(root, environ)
    return RegistryConfig(
        stages=values.get("stages"),
        types=values.get("types"),
        index=values.get("index", RegistryConfig.index),
    )


def _check(reader: Callable[[Any], Any], value: Any, where: str) -> Any:
    try:
        return reader(value)
    except _Invalid as e:
        raise StagetagError(f"{where}: {e}") from None


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    from stagetag import yamlio  # only when there is a file: most commands need no YAML

    try:
        data = yamlio.load(path.read_text(encoding="utf-8"))
    except (yamlio.YAMLError, UnicodeDecodeError) as e:
        raise StagetagError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StagetagError(f"{path}: expected a mapping of keys, found {type(data).__name__}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        values.setdefault(str(key).lower(), value)  # GTO keeps the first of `stages`/`STAGES`
    return values


def _read_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """`GTO_<KEY>` overrides; lists are JSON, and a JSON null leaves the file's value."""
    values: dict[str, Any] = {}
    for env_key, raw in environ.items():
        key = env_key[4:].lower()
        if not env_key.upper().startswith("GTO_") or key not in _KEYS:
            continue  # GTO ignores unknown GTO_* variables
        value: Any = raw
        if key in _LIST_KEYS:
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                raise StagetagError(
                    f"{env_key}={raw!r} is not valid JSON; write lists as JSON, e.g. '[\"dev\"]'"
                ) from None
            if value is None:
                continue
        values[key] = _check(_KEYS[key], value, env_key)
    return values
