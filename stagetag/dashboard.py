"""A static registry dashboard: a models page and one page per model, rendered with Jinja from
the same registry state as `show`, viewable offline (no CDN, no server)."""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from stagetag import gitio
from stagetag.annotations import annotations_at
from stagetag.events import isoformat
from stagetag.hosting import Hosting, hosting_for
from stagetag.registry import Registry
from stagetag.views import ShowOptions, history_view, registry_view, short, shown_stages

TEMPLATES = Path(__file__).with_name("templates")
_STATIC = ("dashboard.css", "dashboard.js")


@dataclass(frozen=True)
class Link:
    text: str
    url: str | None


def slug(name: str) -> str:
    """A file name for an artifact: readable, and unique even when names differ only in `/`
    or `:` (a short hash of the name is appended)."""
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:80]
    return f"{readable}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def build_dashboard(registry: Registry, output: Path, remote: str = "origin") -> list[Path]:
    """Write the site into `output`; return the pages written."""
    hosting = hosting_for(gitio.remote_url(registry.root, remote))
    head = gitio.head_commit(registry.root) or ""
    wanted = [(name, head) for name in registry.state.artifacts] if head else []
    notes = annotations_at(registry.root, wanted, registry.config.index)
    view = registry_view(registry, ShowOptions(deprecated=True))
    stages = shown_stages(registry)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    output.mkdir(parents=True, exist_ok=True)
    (output / "models").mkdir(exist_ok=True)
    for static in _STATIC:
        shutil.copyfile(TEMPLATES / static, output / static)
    models = [
        {
            "name": name,
            "page": f"models/{slug(name)}.html",
            "latest": entry["version"],
            "stages": [(stage, entry["stage"][stage]) for stage in stages],
            "active": entry["active"],
            "registered": entry["registered"],
            **(notes.get((name, head)) or {"type": None, "description": None}),
        }
        for name, entry in sorted(view.items())
    ]
    pages = [output / "index.html"]
    pages[0].write_text(env.get_template("index.html.j2").render(models=models, stages=stages))
    history = history_view(registry, None, ascending=False)
    by_artifact: dict[str, list[dict[str, Any]]] = {}
    for record in history:
        by_artifact.setdefault(record["artifact"], []).append(record)
    template = env.get_template("model.html.j2")
    for model in models:
        page = output / model["page"]
        page.write_text(
            template.render(
                model=model,
                versions=_versions(registry, model["name"], hosting),
                history=[_history_row(r, hosting) for r in by_artifact.get(model["name"], [])],
            )
        )
        pages.append(page)
    return pages


def _link(text: str, url: str | None) -> Link:
    return Link(text, url)


def _versions(registry: Registry, name: str, hosting: Hosting | None) -> list[dict[str, Any]]:
    artifact = registry.state.artifacts[name]
    holders = artifact.stage_holders(sort="timestamp")
    held: dict[str, list[str]] = {}
    for stage, holds in holders.items():
        for hold in holds:
            held.setdefault(hold.version, []).append(stage)
    rows = []
    for version in artifact.get_versions(include_non_explicit=True, include_discovered=True):
        event = version.authoring_event
        rows.append(
            {
                "version": short(version.version),
                "commit": _link(
                    version.commit_hexsha[:7],
                    hosting.commit_url(version.commit_hexsha) if hosting else None,
                ),
                "author": event.author,
                "date": isoformat(event.created_at),
                "message": event.message,
                "stages": held.get(version.version, []),
            }
        )
    return rows


def _history_row(record: dict[str, Any], hosting: Hosting | None) -> dict[str, Any]:
    ref = record["ref"]
    return {
        **record,
        "version": short(record["version"]) if record["version"] else None,
        "ref": _link(ref, hosting.tag_url(ref) if hosting else None),
        "commit": _link(
            record["commit"][:7], hosting.commit_url(record["commit"]) if hosting else None
        ),
    }
