"""GTO's `artifacts.yaml` index: artifact annotations (type, path, labels, ...) at a commit."""

from __future__ import annotations

from typing import Any

from stagetag.grammar import NAME_RE

Annotation = dict[str, Any]


def parse_index(text: str) -> dict[str, Annotation] | None:
    """Annotations by artifact name, in GTO's field order with its defaults; None if invalid."""
    from stagetag import yamlio  # only when a repository has the file

    try:
        data = yamlio.load(text)
    except yamlio.YAMLError:
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        return None
    index = {}
    for name, entry in data.items():
        if not isinstance(name, str) or not NAME_RE.match(name):
            return None
        annotation = _annotation(entry or {})
        if annotation is None:
            return None
        index[name] = annotation
    return index


def _annotation(entry: object) -> Annotation | None:
    if not isinstance(entry, dict):
        return None
    labels = entry.get("labels", [])
    kind = entry.get("type")
    if not isinstance(labels, list) or not all(
        isinstance(label, str) and NAME_RE.match(label) for label in labels
    ):
        return None
    if kind is not None and not (isinstance(kind, str) and NAME_RE.match(kind)):
        return None
    return {
        "type": kind,
        "path": entry.get("path"),
        "virtual": bool(entry.get("virtual", True)),
        "labels": labels,
        "description": entry.get("description", ""),
        "custom": entry.get("custom"),
    }
