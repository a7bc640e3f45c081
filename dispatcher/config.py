"""The `deploy:` section of `stagetag.yaml`: which stage deploys where, and how.

    deploy:
      events: [assignment, unassignment, deregistration]   # what triggers a deployment
      registration:                     # with `registration` in events: runs for a new version
        deploy: ./publish.sh {{ name }} {{ version }}
      templates: ci/stagetag            # a folder of templates overriding the built-in ones
      defaults:
        runs_on: [ubuntu-latest]     # GitHub runner labels, GitLab runner tags
        concurrency: deploy-{{ name }}-{{ stage }}
        timeout: 1800                   # seconds
      stages:
        prod:
          environment: production
          deploy: mlem deployment run --load deploy/prod --model {{ path }}
          undeploy: mlem deployment remove deploy/prod
      artifacts:                         # overrides; the first that matches wins
        - match: "nlp/*"                 # a glob on the artifact name, and/or
          type: model                    # the artifact's type
          stages:
            prod:
              deploy: ./deploy-nlp.sh {{ name }} {{ version }}

Command templates are Jinja, sandboxed, and every `{{ value }}` is shell-quoted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from stagetag.dispatcher.render import check_command_template
from stagetag.errors import StagetagError
from stagetag.grammar import NAME_RE
from stagetag.settings import Settings
from stagetag.yamlio import Located

EVENTS = ("registration", "assignment", "unassignment", "deregistration", "deprecation")
DEFAULT_EVENTS = frozenset({"assignment", "unassignment", "deregistration"})
_TARGET_KEYS = {"environment", "deploy", "undeploy", "runs_on", "concurrency", "timeout"}


@dataclass(frozen=True)
class Target:
    """How one stage of one artifact deploys."""

    environment: str
    deploy: str | None
    undeploy: str | None
    runs_on: tuple[str, ...]
    concurrency: str
    timeout: int


@dataclass(frozen=True)
class Override:
    match: str | None
    type: str | None
    stages: dict[str, dict[str, Any]]

    def applies(self, name: str, kind: str | None) -> bool:
        return (self.match is None or fnmatchcase(name, self.match)) and (
            self.type is None or self.type == kind
        )


@dataclass(frozen=True)
class DeployConfig:
    events: frozenset[str] = DEFAULT_EVENTS
    templates: Path | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    registration: dict[str, Any] | None = None

    def target(self, name: str, kind: str | None, stage: str | None) -> Target | None:
        """The merged settings for a stage of an artifact (`stage=None`: what runs when a
        version is registered); None if nothing is configured for it."""
        fields = {
            "environment": stage or "registration",
            "runs_on": [],
            "concurrency": "deploy-{{ name }}-{{ stage }}",
            "timeout": 1800,
            **self.defaults,
        }
        if stage is None:
            if self.registration is None:
                return None
            fields.update(self.registration)
            found = True
        else:
            found = stage in self.stages
            fields.update(self.stages.get(stage, {}))
        override = next((o for o in self.overrides if o.applies(name, kind)), None)
        if override is not None and stage is not None and stage in override.stages:
            found = True
            fields.update(override.stages[stage])
        if not found:
            return None
        return Target(
            environment=fields["environment"],
            deploy=fields.get("deploy"),
            undeploy=fields.get("undeploy"),
            runs_on=tuple(fields["runs_on"]),
            concurrency=fields["concurrency"],
            timeout=int(fields["timeout"]),
        )


def load_deploy_config(settings: Settings) -> DeployConfig:
    section = settings.section(
        "deploy", {"events", "templates", "defaults", "stages", "artifacts", "registration"}
    )
    events = section.get("events", sorted(DEFAULT_EVENTS))
    if not isinstance(events, list) or any(e not in EVENTS for e in events):
        raise settings.error(section, "events", f"expected a list from: {', '.join(EVENTS)}")
    templates = section.get("templates")
    if templates is not None and not isinstance(templates, str):
        raise settings.error(section, "templates", "expected a folder path")
    folder = settings.path.parent / templates if templates else None
    if folder is not None and not folder.is_dir():
        raise settings.error(section, "templates", f"folder {templates!r} does not exist")
    defaults = _target_fields(settings, section, "defaults", {"runs_on", "concurrency", "timeout"})
    return DeployConfig(
        events=frozenset(events),
        templates=folder,
        defaults=defaults,
        stages=_stages(settings, section),
        overrides=_overrides(settings, section),
        registration=(
            _target_fields(settings, section, "registration", _TARGET_KEYS - {"undeploy"})
            if "registration" in section
            else None
        ),
    )


def _stages(settings: Settings, parent: Located) -> dict[str, dict[str, Any]]:
    stages = settings.mapping(parent, "stages")
    for stage in stages:
        if not NAME_RE.match(stage):
            raise settings.error(stages, stage, "not a valid stage name")
    return {stage: _target_fields(settings, stages, stage, _TARGET_KEYS) for stage in stages}


def _target_fields(
    settings: Settings, parent: Located, key: str, allowed: set[str]
) -> dict[str, Any]:
    fields = settings.mapping(parent, key, allowed)
    for name, value in fields.items():
        problem = _field_problem(name, value)
        if problem:
            raise settings.error(fields, name, problem)
    return dict(fields)


def _field_problem(name: str, value: Any) -> str | None:
    if name == "runs_on":
        if isinstance(value, str):
            return "expected a list of runner labels, e.g. [ubuntu-latest]"
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "expected a list of runner labels"
        return None
    if name == "timeout":
        ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
        return None if ok else "expected a number of seconds"
    if not isinstance(value, str):
        return "expected a template string"
    try:
        check_command_template(value)
    except StagetagError as e:
        return str(e)
    return None


def _overrides(settings: Settings, parent: Located) -> tuple[Override, ...]:
    entries = parent.get("artifacts", [])
    if not isinstance(entries, list):
        raise settings.error(parent, "artifacts", "expected a list of overrides")
    overrides = []
    for entry in entries:
        if not isinstance(entry, Located):
            raise settings.error(parent, "artifacts", "each override is a mapping")
        for key in entry:
            if key not in ("match", "type", "stages"):
                raise settings.error(entry, key, "unknown key (known: match, stages, type)")
        for key in ("match", "type"):
            if key in entry and not isinstance(entry[key], str):
                raise settings.error(entry, key, "expected text")
        if "match" not in entry and "type" not in entry:
            raise settings.error(parent, "artifacts", "an override needs match: or type:")
        overrides.append(
            Override(
                match=entry.get("match"), type=entry.get("type"), stages=_stages(settings, entry)
            )
        )
    return tuple(overrides)
