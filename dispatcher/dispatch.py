"""The dispatch use case, one for every way in (`stagetag dispatch`, the action's
`command: dispatch`): which tags, fetched when the clone lacks them, planned against the
registry and the `deploy:` section of stagetag.yaml. Callers render, report and run it, each
for its interface; what they report is the same."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from stagetag import gitio
from stagetag.dispatcher.config import DeployConfig, load_deploy_config
from stagetag.dispatcher.gate import PolicyRefused, ci_actor, refusals
from stagetag.dispatcher.plan import DispatchPlan, plan_dispatch
from stagetag.dispatcher.refs import ensure_tags, new_since, triggering_refs
from stagetag.errors import StagetagError
from stagetag.policy import load_policy, signers_path
from stagetag.registry import Registry, load_registry
from stagetag.settings import SETTINGS_FILE, Settings, load_settings
from stagetag.views import ref_artifacts

_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
# deploy.templates' folder, found in the text before parsing (the parse then checks it)
_TEMPLATES_KEY = re.compile(r"""(?m)^\s+templates:\s*['"]?([^'"#\n]+?)['"]?\s*(?:#.*)?$""")
NO_TAG = "no tag given and none in GITHUB_REF or CI_COMMIT_TAG: nothing to deploy"


class Dispatch(NamedTuple):
    root: Path
    config: DeployConfig
    registry: Registry
    plan: DispatchPlan
    warnings: tuple[str, ...]  # tags the registry skipped, or no tag at all
    refused: tuple[str, ...] = ()  # refs that broke the promotion policy: no job, exit 5

    def check(self) -> None:
        """Raise PolicyRefused if any ref broke the policy (after the caller reported)."""
        if self.refused:
            raise PolicyRefused(
                f"{len(self.refused)} tag(s) broke the promotion policy and were not deployed: "
                + ", ".join(self.refused)
            )


def dispatch(
    repo: Path,
    refs: Sequence[str],
    env: Mapping[str, str],
    remote: str = "origin",
    fetch: bool = True,
    since: Path | None = None,
    every_tag: bool = False,
) -> Dispatch:
    """Plan `refs`, else the CI's triggering tag (`env`), plus with `since` every GTO tag
    not in that state file. Only the tags of the refs' artifacts are read, unless `since` or
    `every_tag` (the registry's tags, for `--save-state`) needs all of them."""
    root = gitio.repo_root(repo)
    branch = default_branch(env)
    settings = load_settings(root) if branch is None else trusted_settings(root, remote, branch)
    config = load_deploy_config(settings)
    wanted = [ref for ref in refs if ref] or triggering_refs(env)
    ensure_tags(root, wanted, remote, fetch)
    scope = None if since is not None or every_tag else ref_artifacts(wanted)
    registry = load_registry(root, artifacts=scope)
    if since is not None:
        wanted += new_since(registry.tags, since)
    warnings = [*registry.problems, *([] if wanted else [NO_TAG])]
    refused = refusals(registry, load_policy(settings), wanted, ci_actor(env), remote)
    plan = plan_dispatch(registry, config, [ref for ref in wanted if ref not in refused])
    plan.notices.extend(f"{ref}: not deployed, {why}" for ref, why in refused.items())
    return Dispatch(root, config, registry, plan, tuple(warnings), tuple(refused))


def default_branch(env: Mapping[str, str]) -> str | None:
    """The repository's default branch, where the CI system names it (GitLab's
    CI_DEFAULT_BRANCH, the repository in GitHub's event payload); None outside CI."""
    name: object = env.get("CI_DEFAULT_BRANCH") if env.get("GITLAB_CI") == "true" else None
    if env.get("GITHUB_ACTIONS") == "true" and env.get("GITHUB_EVENT_PATH"):
        try:
            event = json.loads(Path(env["GITHUB_EVENT_PATH"]).read_text(encoding="utf-8"))
            name = event["repository"]["default_branch"]
        except (OSError, ValueError, KeyError, TypeError):
            name = None
    if name is None:
        return None
    if not isinstance(name, str) or not _BRANCH.fullmatch(name) or ".." in name:
        raise StagetagError(f"the CI names an odd default branch {name!r}; refusing to read it")
    return name


def trusted_settings(root: Path, remote: str, branch: str) -> Settings:
    """stagetag.yaml, its templates folder and the allowed-signers file as the default branch
    has them. A pushed tag's own commit is its author's to write, deploy commands and signers
    included: in CI, what deploys is decided by the branch that reviews guard, fetched fresh."""
    ref = "refs/stagetag/trusted"
    try:
        gitio.fetch(root, remote, f"+refs/heads/{branch}:{ref}")
    except StagetagError as e:
        raise StagetagError(
            f"cannot read stagetag.yaml from the default branch {branch!r} of {remote!r} ({e}); "
            "in CI the deploy config is only taken from there"
        ) from None
    folder = gitio.git_dir(root) / "stagetag" / "trusted"
    shutil.rmtree(folder, ignore_errors=True)
    files = gitio.files_at(root, ref, [SETTINGS_FILE])
    if SETTINGS_FILE in files:
        text = files[SETTINGS_FILE].decode("utf-8", "replace")
        templates = _TEMPLATES_KEY.search(text)
        if templates:
            files.update(gitio.files_at(root, ref, [templates[1].strip()]))
    _write_files(folder, files)
    settings = load_settings(folder, folder / SETTINGS_FILE)
    signers = signers_path(settings)
    if signers is not None:
        _write_files(folder, gitio.files_at(root, ref, [signers]))
    return settings


def _write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
