"""`stagetag.yaml`, the project's own config (never `.gto`, which GTO must keep reading).

Values keep the line they came from, so every error can name the file, the line and the key.
"""

from __future__ import annotations

from pathlib import Path

from stagetag import yamlio
from stagetag.errors import StagetagError
from stagetag.yamlio import Located

SETTINGS_FILE = "stagetag.yaml"
SECTIONS = {"promotion", "deploy", "dashboard"}


class Settings:
    """The parsed file plus where each value came from, for one-line errors."""

    def __init__(self, path: Path, data: Located) -> None:
        self.path = path
        self.data = data

    def error(self, mapping: Located, key: str, problem: str) -> StagetagError:
        line = getattr(mapping, "lines", {}).get(key)
        where = f"{self.path}:{line}" if line else str(self.path)
        return StagetagError(f"{where}: {key}: {problem}")

    def section(self, key: str, allowed: set[str]) -> Located:
        """A top-level mapping, with unknown keys refused."""
        return self.mapping(self.data, key, allowed)

    def mapping(self, parent: Located, key: str, allowed: set[str] | None = None) -> Located:
        """`parent[key]` as a mapping (empty if absent); with `allowed`, other keys are refused."""
        value = parent.get(key)
        if value is None:
            return Located()
        if not isinstance(value, Located):
            raise self.error(parent, key, "expected a mapping")
        for name in value:
            if allowed is not None and name not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.error(value, str(name), f"unknown key (known: {known})")
        return value


def load_settings(root: Path, path: Path | None = None) -> Settings:
    """Read `stagetag.yaml` at the repository root (or `path`); an absent file is empty."""
    path = path or root / SETTINGS_FILE
    if not path.is_file():
        return Settings(path, Located())
    try:
        data = yamlio.load(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as e:
        raise StagetagError(f"{path}: not UTF-8 text (byte {e.start}); save it as UTF-8") from None
    except yamlio.YAMLError as e:
        line, what = yamlio.problem(e)
        where = f"{path}:{line}" if line else str(path)
        raise StagetagError(f"{where}: not valid YAML ({what})") from None
    if data is None:
        return Settings(path, Located())
    if not isinstance(data, Located):
        raise StagetagError(f"{path}: expected a mapping at the top level")
    settings = Settings(path, data)
    for key in data:
        if key not in SECTIONS:
            raise settings.error(
                data, key, f"unknown section (known: {', '.join(sorted(SECTIONS))})"
            )
    return settings
