"""What differs between CI systems: where inputs come from and how results go back.

GitHub: `INPUT_*` variables in, `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY` and workflow
commands out. GitLab: `STAGETAG_*` variables in, a dotenv report of `STAGETAG_OUT_*` out (a
prefix of its own, so a later job's inputs are never overwritten). Anything else: the same
`STAGETAG_*` variables in, outputs printed.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stagetag.text import shown


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


@dataclass(frozen=True)
class Platform:
    """One CI system, seen from a job."""

    kind: str  # github, gitlab or plain
    env: Mapping[str, str]

    @classmethod
    def detect(cls, env: Mapping[str, str] = os.environ) -> Platform:
        if env.get("GITHUB_ACTIONS") == "true":
            return cls("github", env)
        if env.get("GITLAB_CI") == "true":
            return cls("gitlab", env)
        return cls("plain", env)

    def input(self, name: str) -> str:
        """An input by id (`dry_run`): `INPUT_DRY_RUN`, `INPUT_DRY-RUN` or `STAGETAG_DRY_RUN`."""
        for key in (
            f"INPUT_{name.upper()}",
            f"INPUT_{name.upper().replace('_', '-')}",
            f"STAGETAG_{name.upper()}",
        ):
            if key in self.env:
                return self.env[key].strip()
        return ""

    def inputs(self) -> dict[str, str]:
        """Every input given, by id, as `input` reads them."""
        names = {
            key[len(prefix) :].lower().replace("-", "_")
            for key in self.env
            for prefix in ("INPUT_", "STAGETAG_")
            if key.startswith(prefix) and not key.startswith("STAGETAG_OUT_")
        }
        return {name: self.input(name) for name in sorted(names)}

    @property
    def workspace(self) -> Path:
        folder = self.env.get("GITHUB_WORKSPACE") or self.env.get("CI_PROJECT_DIR") or "."
        return Path(folder)

    @property
    def actor(self) -> str | None:
        return self.env.get("GITHUB_ACTOR") or self.env.get("GITLAB_USER_LOGIN") or None

    def identity(self) -> tuple[str, str] | None:
        """Who the tags are from, when git has no identity configured."""
        if self.kind == "github" and self.env.get("GITHUB_ACTOR"):
            actor, actor_id = self.env["GITHUB_ACTOR"], self.env.get("GITHUB_ACTOR_ID", "")
            prefix = f"{actor_id}+" if actor_id else ""
            return actor, f"{prefix}{actor}@users.noreply.github.com"
        if self.kind == "gitlab" and self.env.get("GITLAB_USER_NAME"):
            return self.env["GITLAB_USER_NAME"], self.env.get("GITLAB_USER_EMAIL", "")
        return None

    def mask(self, secret: str) -> None:
        if self.kind == "github" and secret:
            print(f"::add-mask::{secret}", flush=True)

    def error(self, line: str) -> None:
        """`line` as the boundary words it: `error: ...` or `internal error: ...`."""
        if self.kind == "github":
            message = line.partition(": ")[2] if line.startswith("error: ") else line
            print(f"::error title=stagetag::{_escape_data(message)}", flush=True)
        print(f"stagetag: {line}", file=sys.stderr, flush=True)

    def warning(self, message: str) -> None:
        message = shown(message)
        if self.kind == "github":
            print(f"::warning title=stagetag::{_escape_data(message)}", flush=True)
        print(f"stagetag: warning: {message}", file=sys.stderr, flush=True)

    def notice(self, message: str) -> None:
        message = shown(message)
        if self.kind == "github":
            print(f"::notice title=stagetag::{_escape_data(message)}", flush=True)
        else:
            print(message, flush=True)

    def set_outputs(self, outputs: Mapping[str, str], dotenv: Path | None = None) -> None:
        """Step outputs. GitHub: heredoc entries with a random delimiter, so no value can end
        an entry early. GitLab: a dotenv report, one `STAGETAG_OUT_KEY=value` line each."""
        if self.kind == "github" and self.env.get("GITHUB_OUTPUT"):
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            with open(self.env["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
                for key, value in outputs.items():
                    assert delimiter not in value
                    out.write(f"{key}<<{delimiter}\n{value}\n{delimiter}\n")
            return
        if self.kind == "gitlab" and dotenv is not None:
            with open(dotenv, "w", encoding="utf-8") as out:
                for key, value in outputs.items():
                    out.write(f"STAGETAG_OUT_{key.upper()}={' '.join(value.split())}\n")
            return
        for key, value in outputs.items():
            print(f"{key}={value}")

    def summarize(self, markdown: str) -> None:
        path = self.env.get("GITHUB_STEP_SUMMARY") if self.kind == "github" else None
        if path:
            with open(path, "a", encoding="utf-8") as out:
                out.write(markdown)
