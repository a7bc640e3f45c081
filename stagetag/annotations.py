"""Artifact annotations (type, path, description, labels, ...) at a commit: DVC's `dvc.yaml`
`artifacts:` in the artifact's folder, else GTO's own `artifacts.yaml` index."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from stagetag import gitio
from stagetag.grammar import NAME_RE, SEPARATOR_IN_NAME

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


def split_name(artifact: str) -> tuple[str, str]:
    """`dir/sub:name` -> (`dir/sub`, `name`); a root artifact has folder ``."""
    folder, _, name = artifact.rpartition(SEPARATOR_IN_NAME)
    return folder.rstrip("/"), name


def artifact_annotations(root: Path, artifact: str, commit: str, index_file: str) -> Annotation:
    """type, path (from the repository root), description, labels and meta, where known."""
    return annotations_at(root, [(artifact, commit)], index_file)[(artifact, commit)]


def annotations_at(
    root: Path, wanted: list[tuple[str, str]], index_file: str
) -> dict[tuple[str, str], Annotation]:
    """Annotations of many (artifact, commit) pairs, with every file read in one batch."""
    places = {pair: _dvc_file(pair[0]) for pair in wanted}
    files = gitio.read_blobs(
        root,
        [(commit, path) for (_, commit), path in places.items()]
        + [(commit, index_file) for _, commit in wanted],
    )
    found = {}
    for (artifact, commit), dvc_file in places.items():
        folder, name = split_name(artifact)
        text = files.get((commit, dvc_file))
        entry = _dvc_entry(text, name) if text else None
        index_text = None if folder else files.get((commit, index_file))
        index = parse_index(index_text) if index_text else None
        found[(artifact, commit)] = _merge(folder, entry, index.get(name) if index else None)
    return found


def _text(value: Any) -> str | None:
    """A text field of dvc.yaml; anything else (a number, a list) is not used."""
    return value if isinstance(value, str) and value else None


def _dvc_file(artifact: str) -> str:
    folder, _ = split_name(artifact)
    return posixpath.join(folder, "dvc.yaml") if folder else "dvc.yaml"


def _merge(folder: str, dvc: dict[str, Any] | None, gto: Annotation | None) -> Annotation:
    if dvc is not None:
        path = _text(dvc.get("path"))
        labels = dvc.get("labels")
        return {
            "type": _text(dvc.get("type")),
            "path": posixpath.normpath(posixpath.join(folder, path)) if path else None,
            "description": _text(dvc.get("desc")),
            "labels": [str(v) for v in labels] if isinstance(labels, list) else [],
            "meta": dvc.get("meta"),
        }
    if gto is not None:
        return {
            "type": gto["type"],
            "path": gto["path"],
            "description": gto["description"] or None,
            "labels": gto["labels"],
            "meta": gto["custom"],
        }
    return {"type": None, "path": None, "description": None, "labels": [], "meta": None}


def _dvc_entry(text: str, name: str) -> dict[str, Any] | None:
    from stagetag import yamlio  # only when a repository has the file

    try:
        data = yamlio.load(text)
    except yamlio.YAMLError:
        return None
    artifacts = data.get("artifacts") if isinstance(data, dict) else None
    entry = artifacts.get(name) if isinstance(artifacts, dict) else None
    return dict(entry) if isinstance(entry, dict) else None
