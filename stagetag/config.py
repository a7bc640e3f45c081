"""`.gto`, read as GTO 1.10.1 reads it: from the working tree root, keys case-insensitive,
`GTO_*` environment variables (JSON for lists) overriding the file, unknown keys refused."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from stagetag.errors import StagetagError
from stagetag.grammar import NAME_RE

CONFIG_FILE = ".gto"

# Every key GTO accepts. Only `stages` and `index` change what stagetag does; the rest are
# accepted (and type-checked) so that a `.gto` valid for GTO is valid here too.
_KEYS: dict[str, type | tuple[type, ...]] = {
    "index": str,
    "config_file_name": (str, type(None)),
    "log_level": str,
    "debug": bool,
    "emojis": bool,
    "types": (list, type(None)),
    "stages": (list, type(None)),
    "enrichments": list,
    "autoload_enrichments": bool,
}


@dataclass(frozen=True)
class RegistryConfig:
    stages: tuple[str, ...] | None = None  # None: any stage is allowed
    types: tuple[str, ...] | None = None
    index: str = "artifacts.yaml"


def load_config(root: Path, environ: Mapping[str, str] = os.environ) -> RegistryConfig:
    """Read `<root>/.gto` and the `GTO_*` overrides; raise StagetagError naming file and key."""
    path = root / CONFIG_FILE
    values = {**_read_file(path), **_read_env(environ)}
    for key, value in values.items():
        where = f"{key} (from GTO_{key.upper()})" if key in _env_keys(environ) else key
        if key not in _KEYS:
            raise StagetagError(
                f"{path}: unknown key {key!r}; allowed keys are {', '.join(sorted(_KEYS))}"
            )
        if not isinstance(value, _KEYS[key]):
            raise StagetagError(f"{path}: {where} has the wrong type ({type(value).__name__})")
        if isinstance(value, list) and key in ("stages", "types"):
            for name in value:
                if not isinstance(name, str) or not NAME_RE.match(name):
                    raise StagetagError(f"{path}: {where} holds an invalid name {name!r}")
    stages, types = values.get("stages"), values.get("types")
    return RegistryConfig(
        stages=None if stages is None else tuple(stages),
        types=None if types is None else tuple(types),
        index=values.get("index", RegistryConfig.index),
    )


def _read_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise StagetagError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StagetagError(f"{path}: expected a mapping of keys, found {type(data).__name__}")
    return {str(key).lower(): value for key, value in data.items()}


def _env_keys(environ: Mapping[str, str]) -> set[str]:
    return {key[4:].lower() for key in environ if key.upper().startswith("GTO_")}


def _read_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for env_key, raw in environ.items():
        if not env_key.upper().startswith("GTO_"):
            continue
        key = env_key[4:].lower()
        if key not in _KEYS:
            continue  # GTO ignores unknown GTO_* variables
        expected = _KEYS[key]
        if expected is str or expected == (str, type(None)):
            values[key] = raw
            continue
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError as e:
            raise StagetagError(
                f"{env_key}={raw!r} is not valid JSON; write lists as JSON, e.g. '[\"dev\"]'"
            ) from e
    return values
