"""Where the dashboard's "Assign stage", "Unassign" and "Deprecate" send a person: the CI form
that writes the tag. On GitLab, the "Run pipeline" page with the variables filled in; on
GitHub, the workflow's page (GitHub cannot fill a form from a link) and the `gh workflow run`
command with the same values. Configured in `stagetag.yaml`:

    dashboard:
      url: https://gitlab.example.com/acme/models  # the project (default: the remote's URL)
      platform: gitlab             # github or gitlab (default: from the URL's host)
      branch: main                 # the branch the form runs on (default: the remote's HEAD)
      workflow: assign-stage.yml   # GitHub: the workflow file
      fields: {stage: STAGE}       # the form's names, where they differ from the examples'
      actions: true                # false: no actions on the pages

The defaults fit examples/workflows: GitHub's assign-stage.yml takes the inputs `name`,
`version`, `stage` and `command`; GitLab's assign component takes the "Run pipeline"
variables NAME, VERSION and STAGE, and a pipeline variable STAGETAG_COMMAND overrides the
command it runs. Every value from tag data is quoted here, for a URL or for a shell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

from stagetag.errors import StagetagError
from stagetag.hosting import Hosting, hosting_at, hosting_for
from stagetag.settings import Settings, load_settings
from stagetag.shell import shell_quote
from stagetag.yamlio import Located

Command = Literal["assign", "unassign", "deprecate"]
FIELDS = ("name", "version", "stage", "command")
DEFAULT_FIELDS = {
    "github": {"name": "name", "version": "version", "stage": "stage", "command": "command"},
    "gitlab": {
        "name": "NAME",
        "version": "VERSION",
        "stage": "STAGE",
        "command": "STAGETAG_COMMAND",
    },
}
_KEYS = {"url", "platform", "branch", "workflow", "fields", "actions"}
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_WORKFLOW = re.compile(r"[A-Za-z0-9_.-]+\.ya?ml\Z|[0-9]+\Z")
_BRANCH = re.compile(r"(?!-)(?!.*\.\.)[^\s~^:?*\[\\\x00-\x1f\x7f]+\Z")


@dataclass(frozen=True)
class DashboardSettings:
    """stagetag.yaml's `dashboard:` section, checked."""

    url: str | None = None
    platform: str | None = None
    branch: str | None = None
    workflow: str = "assign-stage.yml"
    fields: tuple[tuple[str, str], ...] = ()  # overrides of DEFAULT_FIELDS
    actions: bool = True


DEFAULTS = DashboardSettings()


def read_dashboard_settings(root: Path) -> tuple[DashboardSettings, str | None]:
    """The settings at `root`, or the defaults and why the file cannot be used: the dashboard
    is a read and still renders (without the settings' links)."""
    try:
        return load_dashboard_settings(load_settings(root)), None
    except StagetagError as e:
        return DEFAULTS, f"{e}; the dashboard uses the defaults"


def dashboard_hosting(remote_url: str | None, settings: DashboardSettings) -> Hosting | None:
    """Where the pages link: the configured project, else the remote's GitHub or GitLab."""
    if settings.url is not None:
        return hosting_at(settings.url, settings.platform)
    return hosting_for(remote_url)


def load_dashboard_settings(settings: Settings) -> DashboardSettings:
    section = settings.section("dashboard", _KEYS)
    fields = settings.mapping(section, "fields", set(FIELDS))
    for key, value in fields.items():
        if not isinstance(value, str) or not _FIELD_NAME.match(value):
            raise settings.error(fields, key, "expected an input or variable name")
    actions = section.get("actions", True)
    if not isinstance(actions, bool):
        raise settings.error(section, "actions", "expected true or false")
    found = DashboardSettings(
        url=_text(settings, section, "url"),
        platform=_text(settings, section, "platform"),
        branch=_text(settings, section, "branch"),
        workflow=_text(settings, section, "workflow") or DashboardSettings.workflow,
        fields=tuple((str(k), str(v)) for k, v in fields.items()),
        actions=actions,
    )
    if found.platform not in (None, "github", "gitlab"):
        raise settings.error(section, "platform", "expected github or gitlab")
    if found.branch is not None and not _BRANCH.match(found.branch):
        raise settings.error(section, "branch", f"{found.branch!r} is not a branch name")
    if not _WORKFLOW.match(found.workflow):
        raise settings.error(section, "workflow", "expected a workflow file name (assign.yml)")
    if found.url is not None:
        try:
            hosting_at(found.url, found.platform)
        except StagetagError as e:
            raise settings.error(section, "url", str(e)) from None
    return found


def _text(settings: Settings, section: Located, key: str) -> str | None:
    value = section.get(key)
    if value is not None and not (isinstance(value, str) and value):
        raise settings.error(section, key, "expected text")
    return value


class FormLink(NamedTuple):
    """One action: the page to open, and on GitHub the command that does the same."""

    url: str
    command: str | None


class CiForms:
    """The action links of one repository's dashboard."""

    def __init__(self, hosting: Hosting, branch: str, settings: DashboardSettings) -> None:
        self.hosting = hosting
        self.branch = branch
        self.workflow = settings.workflow
        self.fields = {**DEFAULT_FIELDS[hosting.kind], **dict(settings.fields)}

    @property
    def workflow_url(self) -> str | None:
        """GitHub: the workflow's page, where its "Run workflow" form is."""
        return self.hosting.workflow_url(self.workflow) if self.hosting.kind == "github" else None

    def assign(self, name: str, version: str, stage: str) -> FormLink:
        return self._link("assign", [("name", name), ("version", version), ("stage", stage)])

    def unassign(self, name: str, version: str, stage: str) -> FormLink:
        return self._link("unassign", [("name", name), ("version", version), ("stage", stage)])

    def deprecate(self, name: str) -> FormLink:
        return self._link("deprecate", [("name", name)])

    def _link(self, command: Command, values: list[tuple[str, str]]) -> FormLink:
        """`assign` is the forms' default command, so it is not passed: a form without a
        command field still works for it."""
        if command != "assign":
            values = [*values, ("command", command)]
        named = [(self.fields[field], value) for field, value in values]
        if self.hosting.kind == "gitlab":
            return FormLink(self.hosting.pipeline_url(self.branch, named), None)
        words = [
            "gh",
            "workflow",
            "run",
            shell_quote(self.workflow),
            "--repo",
            shell_quote(self.hosting.repository),
            "--ref",
            shell_quote(self.branch),
        ]
        for key, value in named:
            words += ["-f", shell_quote(f"{key}={value}")]
        return FormLink(self.hosting.workflow_url(self.workflow), " ".join(words))
