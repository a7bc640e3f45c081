"""The files users copy or run in their CI pass the linters they are likely to run on them.

A schema error in action.yml or a workflow only shows up on GitHub or GitLab, after a push;
actionlint, zizmor and hadolint catch mistakes and unsafe patterns (unpinned actions,
injection through inputs, unpinned packages) that no unit test of the entrypoint can.
Each must report nothing. The tools come from the dev extra, beside this interpreter.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORKFLOWS = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
GITLAB = [path for path in WORKFLOWS if path.name.endswith(".gitlab-ci.yml")]
GITLAB.append(ROOT / ".gitlab-ci.yml")  # the GitLab mirror's catalog release
COMPONENTS = sorted((ROOT / "templates").glob("*.yml"))  # GitLab CI/CD components
EXAMPLES_GITHUB = [path for path in WORKFLOWS if path not in GITLAB]
# This repository's own workflows (release.yml) pass the same checks as the examples.
GITHUB = EXAMPLES_GITHUB + sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def relative(paths: list[Path]) -> list[str]:
    return [str(path.relative_to(ROOT)) for path in paths]


def schema(name: str, paths: list[str]) -> list[str]:
    return ["check-jsonschema", "--builtin-schema", f"vendor.{name}", *paths]


CHECKS = {
    "schema-action": schema("github-actions", ["action.yml"]),
    "schema-github-workflows": schema("github-workflows", relative(GITHUB)),
    "schema-gitlab-ci": schema("gitlab-ci", relative(GITLAB)),
    # The examples are linted where users copy them (test_examples_where_users_copy_them).
    "actionlint": ["actionlint", "-no-color", *relative(GITHUB[len(EXAMPLES_GITHUB) :])],
    # .github/zizmor.yml holds the pinning policy; naming it keeps discovery rules out of play.
    "zizmor": [
        "zizmor",
        "--offline",
        "--no-progress",
        "--color=never",
        "--config",
        ".github/zizmor.yml",
        "action.yml",
        *relative(GITHUB),
    ],
    "hadolint": ["hadolint", "--no-color", "Dockerfile"],
}


def test_examples_cover_both_platforms() -> None:
    assert GITHUB and GITLAB
    assert ROOT / ".github" / "workflows" / "release.yml" in GITHUB


@pytest.mark.parametrize("command", CHECKS.values(), ids=CHECKS.keys())
def test_no_findings(command: list[str]) -> None:
    tool = BIN / command[0]
    assert tool.exists(), f"{command[0]} is missing from {BIN}: pip install -e '.[dev]'"
    result = subprocess.run(
        [str(tool), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}{result.stderr}"


def test_examples_where_users_copy_them(tmp_path: Path) -> None:
    """actionlint on the GitHub examples side by side in a repository's .github/workflows/,
    where deploy-on-tag.yml's `uses: ./.github/workflows/deploy-job.yml` must resolve."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for path in EXAMPLES_GITHUB:
        shutil.copy(path, workflows / path.name)
    result = subprocess.run(
        [str(BIN / "actionlint"), "-no-color"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("component", COMPONENTS, ids=[path.stem for path in COMPONENTS])
def test_components_pass_the_gitlab_schema(component: Path, tmp_path: Path) -> None:
    """A component is two YAML documents, the `spec:` header and the jobs; the schema tool
    reads one document a file, so each is checked on its own (both against GitLab's schema,
    which knows the header's keys, input types and defaults)."""
    documents = list(yaml.safe_load_all(component.read_text()))
    assert len(documents) == 2 and set(documents[0]) == {"spec"}, component.name
    parts = []
    for index, document in enumerate(documents):
        part = tmp_path / f"{component.stem}.{index}.yml"
        part.write_text(yaml.safe_dump(document, sort_keys=False))
        parts.append(str(part))
    command = [
        *schema("gitlab-ci", parts),
        "--data-transform",
        "gitlab-ci",
        "--regex-variant",
        "nonunicode",
    ]
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
