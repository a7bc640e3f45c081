"""Links to commits and tags on GitHub or GitLab, from the repository's remote URL."""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import quote

_REMOTE = re.compile(
    r"^(?:https?://(?:[^@/]+@)?|ssh://(?:[^@/]+@)?|[^@/]+@)(?P<host>[^/:]+)(?::\d+)?[/:]"
    r"(?P<path>[^\s]+?)(?:\.git)?/?$"
)


class Hosting(NamedTuple):
    kind: str  # github or gitlab
    base: str  # https://host/owner/repo

    def commit_url(self, sha: str) -> str:
        middle = "/commit/" if self.kind == "github" else "/-/commit/"
        return f"{self.base}{middle}{sha}"

    def tag_url(self, tag: str) -> str:
        middle = "/releases/tag/" if self.kind == "github" else "/-/tags/"
        return f"{self.base}{middle}{quote(tag, safe='')}"


def hosting_for(remote_url: str | None) -> Hosting | None:
    """GitHub or GitLab from a remote URL (https or ssh); None for anything else."""
    match = _REMOTE.match(remote_url or "")
    if not match:
        return None
    host, path = match["host"].lower(), match["path"]
    kind = "github" if host == "github.com" else "gitlab" if "gitlab" in host else None
    if kind is None:
        return None
    return Hosting(kind, f"https://{host}/{path}")
