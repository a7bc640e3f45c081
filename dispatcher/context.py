"""What a deployment knows about a version: the event, and the artifact's annotations at the
version's commit (DVC's `dvc.yaml` `artifacts:`, else GTO's `artifacts.yaml`)."""

from __future__ import annotations

from typing import Any

from stagetag.annotations import split_name
from stagetag.events import Event, isoformat
from stagetag.state import Version


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
