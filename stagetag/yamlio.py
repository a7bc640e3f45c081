"""YAML the way GTO reads it (YAML 1.2: only `true`/`false` are booleans), keeping the line
of every mapping key so that errors can point at it."""

from __future__ import annotations

import re
from typing import Any

import yaml


class Located(dict[str, Any]):
    """A YAML mapping that remembers the line of each key."""

    lines: dict[str, int] = {}  # noqa: RUF012 - replaced per instance by the loader


class _Loader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Located:  # type: ignore[override]
        plain = super().construct_mapping(node, deep=True)
        mapping = Located({str(key): value for key, value in plain.items()})
        mapping.lines = {str(key.value): key.start_mark.line + 1 for key, _ in node.value}
        return mapping


def _located_map(loader: _Loader, node: yaml.MappingNode) -> Located:
    return loader.construct_mapping(node)


_Loader.add_constructor("tag:yaml.org,2002:map", _located_map)

# YAML 1.1 (PyYAML's default) also reads yes/no/on/off as booleans; YAML 1.2 does not, so a
# stage named `on` stays a string, as it does for GTO's YAML 1.2 reader.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


MAX_DEPTH = 64  # far beyond any config; PyYAML's recursive composer overflows near 300


def load(text: str) -> Any:
    """Parse one YAML document; mappings come back as `Located`. Raises yaml.YAMLError, also
    for a document nested deeper than MAX_DEPTH (checked first, on the parser's events, which
    need no recursion)."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise yaml.MarkedYAMLError(
                    problem=f"nested deeper than {MAX_DEPTH} levels",
                    problem_mark=event.start_mark,  # type: ignore[arg-type]  # the stubs' two Marks
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return yaml.load(text, Loader=_Loader)


def problem(error: yaml.YAMLError) -> tuple[int | None, str]:
    """The line (1-based, where known) and what is wrong, for a one-line message."""
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        return (mark.line + 1 if mark else None), str(error.problem or error.context)
    if isinstance(error, yaml.reader.ReaderError):  # a control character or a bad byte
        char = chr(error.character) if isinstance(error.character, int) else error.character
        return None, f"character {char!r} at offset {error.position}: {error.reason}"
    return None, " ".join(str(error).split())


YAMLError = yaml.YAMLError
MarkedYAMLError = yaml.MarkedYAMLError
