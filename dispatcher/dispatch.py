"""The dispatch use case, one for every way in (`stagetag dispatch`, the action's
`command: dispatch`): which tags, fetched when the clone lacks them, planned against the
registry and the `deploy:` section of stagetag.yaml. Callers render, report and run it, each
for its interface; what they report is the same."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from stagetag import gitio
from stagetag.dispatcher.config import DeployConfig, load_deploy_config
from stagetag.dispatcher.plan import DispatchPlan, plan_dispatch
from stagetag.dispatcher.refs import ensure_tags, new_since, triggering_refs
from stagetag.registry import Registry, load_registry
from stagetag.settings import load_settings

NO_TAG = "no tag given and none in GITHUB_REF or CI_COMMIT_TAG: nothing to deploy"


class Dispatch(NamedTuple):
    root: Path
    config: DeployConfig
    registry: Registry
    plan: DispatchPlan
    warnings: tuple[str, ...]  # tags the registry skipped, or no tag at all


def dispatch(
    repo: Path,
    refs: Sequence[str],
    env: Mapping[str, str],
    remote: str = "origin",
    fetch: bool = True,
    since: Path | None = None,
) -> Dispatch:
    """Plan `refs`, else the CI's triggering tag (`env`), plus with `since` every GTO tag
    not in that state file."""
    root = gitio.repo_root(repo)
    config = load_deploy_config(load_settings(root))
    wanted = [ref for ref in refs if ref] or triggering_refs(env)
    ensure_tags(root, wanted, remote, fetch)
    registry = load_registry(root)
    if since is not None:
        wanted += new_since(registry.tags, since)
    warnings = [*registry.problems, *([] if wanted else [NO_TAG])]
    return Dispatch(
        root, config, registry, plan_dispatch(registry, config, wanted), tuple(warnings)
    )
