"""YAML as GTO 1.10.1 reads `artifacts.yaml`: ruamel.yaml's `YAML(typ="safe", pure=True)`,
emulated with PyYAML.

What differs from PyYAML's SafeLoader, and is done here as ruamel does it: YAML 1.2 implicit
types by default (only true/false are booleans; `1e3` is a float, `0o17` octal, `017` decimal,
no sexagesimal numbers), YAML 1.1 types under a `%YAML 1.1` directive, duplicate keys are an
error, `!!omap` is a mapping. Bytes are decoded as ruamel's reader does (a UTF-16 or UTF-8 byte
order mark, else strict UTF-8), and non-printable characters are an error.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

YAMLError = yaml.YAMLError

_V12: list[tuple[str, re.Pattern[str], str]] = [
    ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), "tTfF"),
    (
        "tag:yaml.org,2002:float",
        re.compile(
            r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
            |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
            |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
            |[-+]?\.(?:inf|Inf|INF)
            |\.(?:nan|NaN|NAN))$""",
            re.X,
        ),
        "-+0123456789.",
    ),
    (
        "tag:yaml.org,2002:int",
        re.compile(
            r"""^(?:[-+]?0b[0-1_]+
            |[-+]?0o?[0-7_]+
            |[-+]?[0-9_]+
            |[-+]?0x[0-9a-fA-F_]+)$""",
            re.X,
        ),
        "-+0123456789",
    ),
    ("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), "<"),
    ("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), "~nN"),
    (
        "tag:yaml.org,2002:timestamp",
        re.compile(
            r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
            |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
            (?:[Tt]|[ \t]+)[0-9][0-9]?
            :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
            (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
            re.X,
        ),
        "0123456789",
    ),
]


def _table(rules: list[tuple[str, re.Pattern[str], str]]) -> dict[Any, list[Any]]:
    table: dict[Any, list[Any]] = {}
    for tag, regexp, first in rules:
        for char in first:
            table.setdefault(char, []).append((tag, regexp))
        if tag.endswith(":null"):
            table.setdefault("", []).append((tag, regexp))
    return table


_RESOLVERS_12 = _table(_V12)
_RESOLVERS_11 = yaml.SafeLoader.yaml_implicit_resolvers


class _Loader(yaml.SafeLoader):
    yaml_implicit_resolvers = _RESOLVERS_12

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        version = getattr(self, "yaml_version", None)
        self.yaml_implicit_resolvers = _RESOLVERS_11 if version == (1, 1) else _RESOLVERS_12
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "unhashable key",
                    key_node.start_mark,
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def _int(loader: _Loader, node: yaml.ScalarNode) -> int:
    if getattr(loader, "yaml_version", None) == (1, 1):
        return yaml.SafeLoader.construct_yaml_int(loader, node)
    text = str(loader.construct_scalar(node)).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    for prefix, base in (("0b", 2), ("0o", 8), ("0x", 16)):
        if text.startswith(prefix):
            return sign * int(text[2:], base)
    return sign * int(text)


_Loader.add_constructor("tag:yaml.org,2002:int", _int)


def _construct_omap(loader: _Loader, node: yaml.SequenceNode) -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    for item in loader.construct_sequence(node, deep=True):
        if isinstance(item, dict):
            result.update(item)
    return result


_Loader.add_constructor("tag:yaml.org,2002:omap", _construct_omap)


def load(data: str | bytes) -> Any:
    """One YAML document, as GTO's reader builds it; raises YAMLError."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return yaml.load(data, Loader=_Loader)  # a SafeLoader subclass
