"""What a deployment knows about a version: the event, and the artifact's annotations at the
version's commit (DVC's `dvc.yaml` `artifacts:`, else GTO's `artifacts.yaml`)."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from stagetag import gitio
from stagetag.annotations import parse_index
from stagetag.events import Event, isoformat
from stagetag.grammar import SEPARATOR_IN_NAME
from stagetag.state import Version


def split_name(artifact: str) -> tuple[str, str]:
    """`dir/sub:name` -> (`dir/sub`, `name`); a root artifact has folder ``."""
    folder, _, name = artifact.rpartition(SEPARATOR_IN_NAME)
    return folder.rstrip("/"), name


def artifact_annotations(root: Path, artifact: str, commit: str, index_file: str) -> dict[str, Any]:
    """type, path (from the repository root), description, labels and meta, where known."""
    folder, name = split_name(artifact)
    dvc_file = posixpath.join(folder, "dvc.yaml") if folder else "dvc.yaml"
    found = gitio.read_files_at(root, [commit], dvc_file).get(commit)
    entry = _dvc_entry(found, name) if found else None
    if entry is not None:
        path = entry.get("path")
        return {
            "type": entry.get("type"),
            "path": posixpath.normpath(posixpath.join(folder, path)) if path else None,
            "description": entry.get("desc"),
            "labels": entry.get("labels") or [],
            "meta": entry.get("meta"),
        }
    if not folder:
        text = gitio.read_files_at(root, [commit], index_file).get(commit)
        index = parse_index(text) if text else None
        if index and name in index:
            gto = index[name]
            return {
                "type": gto["type"],
                "path": gto["path"],
                "description": gto["description"] or None,
                "labels": gto["labels"],
                "meta": gto["custom"],
            }
    return {"type": None, "path": None, "description": None, "labels": [], "meta": None}


def _dvc_entry(text: str, name: str) -> dict[str, Any] | None:
    from stagetag import yamlio

    try:
        data = yamlio.load(text)
    except yamlio.YAMLError:
        return None
    artifacts = data.get("artifacts") if isinstance(data, dict) else None
    entry = artifacts.get(name) if isinstance(artifacts, dict) else None
    return dict(entry) if isinstance(entry, dict) else None


def event_context(event: Event) -> dict[str, Any]:
    """The tag that triggered the deployment."""
    folder, short_name = split_name(event.artifact)
    return {
        "event": event.kind.label,
        "tag": event.tag,
        "tagger": event.author,
        "tagger_email": event.author_email,
        "time": isoformat(event.created_at),
        "message": event.message,
        "name": event.artifact,
        "folder": folder,
        "short_name": short_name,
    }


def version_context(version: Version | None) -> dict[str, Any]:
    if version is None:
        return {"version": None, "commit": None}
    return {"version": version.version, "commit": version.commit_hexsha}
