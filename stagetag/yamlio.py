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


def load(text: str) -> Any:
    """Parse one YAML document; mappings come back as `Located`. Raises yaml.YAMLError."""
    return yaml.load(text, Loader=_Loader)


YAMLError = yaml.YAMLError
MarkedYAMLError = yaml.MarkedYAMLError
