"""Artifact annotations (type, path, description, labels, ...) at a commit: DVC's `dvc.yaml`
`artifacts:` in the artifact's folder, else GTO's own `artifacts.yaml` index."""

from __future__ import annotations

import posixpath
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from stagetag import gitio
from stagetag.grammar import SEPARATOR_IN_NAME

Annotation = dict[str, Any]


def parse_index(data: str | bytes) -> dict[str, Annotation] | None:
    """Annotations by artifact name, in GTO's field order with its defaults; None where GTO
    1.10.1 cannot read the file (it then fails for the whole repository)."""
    return read_index(data)[0]


def read_index(data: str | bytes) -> tuple[dict[str, Annotation] | None, str]:
    """`artifacts.yaml` as GTO 1.10.1's `Index.read_state` reads it: ruamel's YAML 1.2 safe
    loader, pydantic's lax `Dict[str, Artifact]`, then GTO's name check on the keys only (its
    `type` and `labels` checks run on writes, never on reads). The index, or None and why."""
    from stagetag import gto_yaml  # only when a repository has the file

    try:
        content = gto_yaml.load(data)
    except RecursionError:
        return None, "nested too deeply to read"
    except gto_yaml.YAMLError as e:
        return None, f"not valid YAML ({' '.join(str(e).split())[:120]})"
    if not isinstance(content, dict):
        return None, f"a {_kind(content)}, not a mapping of artifact names"
    index = {}
    for key, entry in content.items():
        name = _lax_str(key)
        if name is None:
            return None, f"the key {key!r} is not a string"
        if not GTO_NAME_RE.search(name):
            return None, f"{name!r} is not a valid artifact name"
        annotation = _annotation(entry)
        if isinstance(annotation, str):
            return None, f"{name!r}: {annotation}"
        index[name] = annotation
    return index, ""


# GTO's `name_re`, used with `search`: its `$` also matches before a final newline.
GTO_NAME_RE = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?$")
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _kind(value: object) -> str:
    return "empty file" if value is None else type(value).__name__


def _lax_str(value: object) -> str | None:
    """pydantic's lax `str`: a str, or UTF-8 bytes (YAML's !!binary)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def _lax_bool(value: object) -> bool | None:
    """pydantic's lax `bool`: a bool, 0/1 (also as floats), or yes/no/on/off/t/f words."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = _lax_str(value)
    if text is not None and text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    return None


def _annotation(entry: object) -> Annotation | str:
    """One `Artifact` model (extra keys ignored), or what pydantic would reject."""
    if not isinstance(entry, dict):
        return f"a {_kind(entry) if entry is not None else 'null'}, not a mapping"
    found: Annotation = {}
    for field in ("type", "path"):
        value = entry.get(field)
        found[field] = None if value is None else _lax_str(value)
        if value is not None and found[field] is None:
            return f"{field} {value!r} is not a string"
    virtual = _lax_bool(entry.get("virtual", True))
    if virtual is None:
        return f"virtual {entry.get('virtual')!r} is not a boolean"
    labels = entry.get("labels", [])
    if not isinstance(labels, list | tuple | set | frozenset):
        return f"labels {labels!r} is not a list"
    texts = [_lax_str(label) for label in labels]
    if any(text is None for text in texts):
        return f"labels {labels!r} are not all strings"
    description = _lax_str(entry.get("description", ""))
    if description is None:
        return f"description {entry.get('description')!r} is not a string"
    found.update(
        virtual=virtual, labels=texts, description=description, custom=_json(entry.get("custom"))
    )
    return found


def _json_key(key: Any) -> Any:
    return key if key is None or isinstance(key, str | int | float) else str(_json(key))


def _json(value: Any) -> Any:
    """`custom` as JSON can show it: GTO crashes on YAML dates, sets and bytes in `show -d`;
    they are shown as text (ISO dates), lists and text instead."""
    if isinstance(value, dict):
        return {_json_key(k): _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_json(v) for v in value), key=repr)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


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
    files = gitio.read_blobs(root, [(commit, path) for (_, commit), path in places.items()])
    indexes = {
        name.rpartition(":" + index_file)[0]: obj.data
        for name, obj in gitio.read_objects(
            root, [f"{commit}:{index_file}" for _, commit in wanted]
        ).items()
        if obj.kind == "blob"
    }
    found = {}
    for (artifact, commit), dvc_file in places.items():
        folder, name = split_name(artifact)
        text = files.get((commit, dvc_file))
        entry = _dvc_entry(text, name) if text else None
        index_text = None if folder else indexes.get(commit)
        index = parse_index(index_text) if index_text is not None else None
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
