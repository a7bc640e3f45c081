"""A static registry dashboard: a models page and one page per model, rendered with Jinja from
the same registry state as `show`, viewable offline (no CDN, no server)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
from markupsafe import Markup

from stagetag import gitio
from stagetag.annotations import annotations_at
from stagetag.ci_forms import DEFAULTS, CiForms, DashboardSettings, dashboard_hosting
from stagetag.files import written_together
from stagetag.presentation.actions_view import model_actions, stage_choices
from stagetag.presentation.cells import Cells
from stagetag.presentation.timeline_view import stage_timelines
from stagetag.registry import Registry
from stagetag.state import Artifact
from stagetag.timeline import Timelines
from stagetag.views import ShowOptions, history_events, registry_view, short, shown_stages

TEMPLATES = Path(__file__).with_name("templates")
_STATIC = ("dashboard.css", "dashboard.js")


class VersionRow(NamedTuple):
    """A version's cells (stagetag.presentation.cells), and its name for its menus; the
    template unpacks the fields in this order."""

    name: str
    version: Markup
    stages: Markup
    commit: Markup
    author: Markup
    date: Markup
    message: Markup


class HistoryRow(NamedTuple):
    """An event's cells (stagetag.presentation.cells); the template unpacks the fields in this
    order."""

    date: Markup
    kind: Markup
    version: Markup | None
    stage: Markup | None
    ref: Markup
    author: Markup
    message: Markup


def slug(name: str) -> str:
    """A file name for an artifact: readable, and unique even when names differ only in `/`
    or `:` (a short hash of the name is appended)."""
    readable = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:80]
    return f"{readable}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def build_dashboard(
    registry: Registry,
    output: Path,
    remote: str = "origin",
    settings: DashboardSettings = DEFAULTS,
    default_branch: str | None = None,
) -> list[Path]:
    """Write the site into `output` (pages of artifacts that are gone are removed);
    return the pages written. `default_branch` is where the CI forms run when neither
    `settings` nor the remote's HEAD say (the CI's own default branch)."""
    hosting = dashboard_hosting(gitio.remote_url(registry.root, remote), settings)
    forms = None
    if hosting is not None and settings.actions:
        branch = (
            settings.branch or default_branch or gitio.remote_head(registry.root, remote) or "main"
        )
        forms = CiForms(hosting, branch, settings)
    head = gitio.head_commit(registry.root) or ""
    wanted = [(name, head) for name in registry.state.artifacts] if head else []
    notes = annotations_at(registry.root, wanted, registry.config.index)
    stages = shown_stages(registry)
    view = registry_view(registry, ShowOptions(deprecated=True), stages)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    models = [
        _model(name, entry, stages, notes.get((name, head))) for name, entry in sorted(view.items())
    ]
    timelines = Timelines(registry)
    choices = stage_choices(registry)
    models_dir = output / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    # Each page is written as it is rendered (one at a time in memory), and all of them take
    # the old ones' places together once every one is: a template or data problem leaves the
    # old site as it was. A text git could not decode shows as U+FFFD-like '?' rather than
    # failing the page.
    template = env.get_template("model.html.j2")
    pages = [output / "index.html", *(output / model["page"] for model in models)]
    with written_together() as write:
        for static in _STATIC:
            write(output / static, (TEMPLATES / static).read_text(encoding="utf-8"), "strict")
        index = env.get_template("index.html.j2").render(models=models, stages=stages)
        write(pages[0], index, "replace")
        for page, model in zip(pages[1:], models, strict=True):
            artifact = registry.state.artifacts[model["name"]]
            cells = Cells(hosting)
            text = template.render(
                model=model,
                versions=_versions(artifact, cells),
                history=_history(artifact, cells),
                timelines=stage_timelines(timelines.of(model["name"]), stages, cells),
                actions=None if forms is None else model_actions(forms, artifact, choices),
            )
            write(page, text, "replace")
    for stale in set(models_dir.glob("*.html")) - set(pages):
        stale.unlink()
    return pages


def _model(
    name: str, entry: dict[str, Any], stages: list[str], notes: dict[str, Any] | None
) -> dict[str, Any]:
    held = [
        (stage, short(entry["stage"][stage]) if entry["stage"][stage] else None) for stage in stages
    ]
    notes = notes or {}
    words = [name, entry["version"] or "", notes.get("type") or "", notes.get("description") or ""]
    words += [f"{stage} {version}" for stage, version in held if version]
    return {
        "name": name,
        "page": f"models/{slug(name)}.html",
        "latest": entry["version"],
        "stages": held,
        "active": entry["active"],
        "registered": entry["registered"],
        "type": notes.get("type"),
        "description": notes.get("description"),
        "search": " ".join(words).lower(),
    }


def _versions(artifact: Artifact, cells: Cells) -> list[VersionRow]:
    held: dict[str, list[str]] = {}
    for stage, holds in artifact.stage_holders(sort="timestamp").items():
        for hold in holds:
            held.setdefault(hold.version, []).append(stage)
    rows = []
    for version in artifact.get_versions(include_non_explicit=True, include_discovered=True):
        event = version.authoring_event
        rows.append(
            VersionRow(
                version.version,
                cells.version(version.version),
                cells.text(", ".join(held.get(version.version, []))),
                cells.commit(version.commit_hexsha),
                cells.text(event.author),
                cells.time(event.created_at),
                cells.text(event.message),
            )
        )
    return rows


def _history(artifact: Artifact, cells: Cells) -> list[HistoryRow]:
    return [
        HistoryRow(
            cells.time(e.created_at),
            cells.text(e.kind.label),
            cells.version(e.version) if e.version else None,
            cells.text(e.stage) if e.stage else None,
            cells.tag(e.ref),
            cells.text(e.author),
            cells.text(e.message),
        )
        for e in history_events([artifact])
    ]
