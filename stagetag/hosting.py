"""Links to commits, tags and CI forms on GitHub or GitLab, from the repository's remote URL
or the project URL stagetag.yaml gives (stagetag.ci_forms)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple
from urllib.parse import quote, urlsplit

from stagetag.errors import StagetagError

_REMOTE = re.compile(
    r"^(?:https?://(?:[^@/]+@)?|ssh://(?:[^@/]+@)?|[^@/]+@)(?P<host>[^/:]+)(?::\d+)?[/:]"
    r"(?P<path>[^\s]+?)(?:\.git)?/?$"
)
_PROJECT_PATH = re.compile(r"[A-Za-z0-9_.~-]+(?:/[A-Za-z0-9_.~-]+)+\Z")


class Hosting(NamedTuple):
    kind: str  # github or gitlab
    base: str  # https://host/owner/repo

    def commit_url(self, sha: str) -> str:
        middle = "/commit/" if self.kind == "github" else "/-/commit/"
        return f"{self.base}{middle}{sha}"

    def tag_url(self, tag: str) -> str:
        middle = "/releases/tag/" if self.kind == "github" else "/-/tags/"
        return f"{self.base}{middle}{quote(tag, safe='')}"

    @property
    def repository(self) -> str:
        """`owner/repo` as `gh --repo` takes it (`host/owner/repo` off github.com)."""
        parts = urlsplit(self.base)
        path = parts.path.strip("/")
        return path if parts.netloc == "github.com" else f"{parts.netloc}/{path}"

    def workflow_url(self, workflow: str) -> str:
        """GitHub: a workflow's page, with its "Run workflow" form."""
        return f"{self.base}/actions/workflows/{quote(workflow, safe='')}"

    def pipeline_url(self, branch: str, variables: Sequence[tuple[str, str]]) -> str:
        """GitLab: the "Run pipeline" page for `branch` with the variables filled in
        (`?ref=main&var[NAME]=churn`, GitLab's prefill parameters); every value quoted."""
        query = [("ref", branch), *((f"var[{key}]", value) for key, value in variables)]
        fields = "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in query)
        return f"{self.base}/-/pipelines/new?{fields}"


def _kind(host: str) -> str | None:
    return "github" if host == "github.com" else "gitlab" if "gitlab" in host else None


def hosting_for(remote_url: str | None) -> Hosting | None:
    """GitHub or GitLab from a remote URL (https or ssh); None for anything else."""
    match = _REMOTE.match(remote_url or "")
    if not match:
        return None
    host, path = match["host"].lower(), match["path"]
    kind = _kind(host)
    if kind is None:
        return None
    return Hosting(kind, f"https://{host}/{path}")


def hosting_at(url: str, platform: str | None) -> Hosting:
    """The project at a web URL (`https://gitlab.example.com/group/project`), on `platform`
    or, without it, on the platform its host names."""
    parts = urlsplit(url.strip())
    path = parts.path.strip("/").removesuffix(".git")
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise StagetagError("expected the project's web address (https://host/group/project)")
    if parts.username or parts.password:
        raise StagetagError("the address holds credentials; give it without them")
    if not _PROJECT_PATH.match(path):
        raise StagetagError(f"{path!r} is not a project path (group/project)")
    kind = platform or _kind(parts.hostname)
    if kind is None:
        raise StagetagError(
            f"{parts.hostname} is neither github.com nor a GitLab host; set platform"
        )
    return Hosting(kind, f"{parts.scheme}://{parts.netloc}/{path}")
