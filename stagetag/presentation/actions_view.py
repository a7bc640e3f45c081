"""A model page's actions: "Assign stage" and "Unassign" per version, "Deprecate" for the model,
each opening the CI form that writes the tag (stagetag.ci_forms). Links and commands work
without JavaScript; the copy buttons are an extra the script switches on."""

from __future__ import annotations

from itertools import count
from typing import NamedTuple

from stagetag.ci_forms import CiForms, FormLink
from stagetag.grammar import VERSION_RE
from stagetag.registry import Registry
from stagetag.state import Artifact


class Action(NamedTuple):
    label: str  # the stage (or the model) it acts on
    described: str  # the same, as a sentence, for screen readers
    url: str
    command: str | None  # GitHub: the `gh` command
    id: str  # the command's element id, for its copy button


class Menu(NamedTuple):
    title: str
    workflow_url: str | None  # GitHub: the form to fill in by hand
    actions: list[Action]


class ModelActions(NamedTuple):
    deprecate: Menu | None
    versions: dict[str, list[Menu]]  # by version name: its menus


def stage_choices(registry: Registry) -> list[str]:
    """The stages an "Assign stage" menu offers: `.gto`'s list, else every stage the
    registry has seen."""
    if registry.config.stages is not None:
        return list(registry.config.stages)
    artifacts = registry.state.artifacts.values()
    return sorted({e.stage for a in artifacts for e in a.events if e.stage is not None})


def model_actions(forms: CiForms, artifact: Artifact, stages: list[str]) -> ModelActions:
    """Every version registered under a SemVer name gets "Assign stage" for each of `stages`
    and "Unassign" for each stage it holds (also where a newer holder shadows it, since GTO
    gives the stage back to it when that one goes)."""

    ids = count(1)  # the commands' element ids, unique on the page

    def action(label: str, described: str, link: FormLink) -> Action:
        return Action(label, described, link.url, link.command, f"command-{next(ids)}")

    def menu(title: str, actions: list[Action]) -> Menu:
        return Menu(title, forms.workflow_url, actions)

    name = artifact.name
    versions = {}
    for version in artifact.get_versions(include_non_explicit=True):
        if not VERSION_RE.match(version.version):
            continue  # a SHA pseudo-version: the forms take registered versions
        v = version.version
        menus = [
            menu(
                "Assign stage",
                [
                    action(stage, f"Assign {stage} to {v}", forms.assign(name, v, stage))
                    for stage in stages
                ],
            )
        ]
        held = [hold.stage for hold in version.active_stages(ascending=True)]
        if held:
            menus.append(
                menu(
                    "Unassign",
                    [
                        action(stage, f"Unassign {stage} from {v}", forms.unassign(name, v, stage))
                        for stage in held
                    ],
                )
            )
        versions[v] = menus
    deprecate = None
    if artifact.is_active:
        deprecate = menu("Deprecate", [action(name, f"Deprecate {name}", forms.deprecate(name))])
    return ModelActions(deprecate, versions)
