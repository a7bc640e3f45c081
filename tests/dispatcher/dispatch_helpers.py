"""Shared by the dispatcher tests: real repositories with a bare remote, the real `stagetag`
executable, and the validators the generated CI files must pass (the recording deploy script
is tests/deploy_recorder.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import GitRepo, make_repo, run_stagetag

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"


def executable(name: str) -> str:
    """A tool from the dev venv, else from PATH; skips the test when neither has it."""
    local = VENV_BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install it into .venv)")
    return found


def stagetag(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return run_stagetag(*args, cwd=cwd, env=env, executable=executable("stagetag"), timeout=timeout)


def make_origin(base: Path) -> tuple[Path, GitRepo]:
    """A bare remote (HEAD = main) and a working clone of it with `origin` set."""
    bare = base / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    work = make_repo(base / "work")
    work.git("remote", "add", "origin", str(bare))
    return bare, work


def clone(bare: Path, dest: Path, *options: str) -> GitRepo:
    """A clone as CI makes one; `--depth 1` needs a file:// URL to be honoured locally."""
    subprocess.run(
        ["git", "clone", "-q", *options, f"file://{bare}", str(dest)],
        check=True,
        capture_output=True,
    )
    return GitRepo(dest)


def mirror(bare: Path, dest: Path) -> Path:
    """A private copy of a remote, for a test that pushes."""
    subprocess.run(["git", "clone", "-q", "--mirror", str(bare), str(dest)], check=True)
    return dest


def write(path: Path, text: str, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mode is not None:
        path.chmod(mode)
    return path


MATRIX_KEYS = (
    "action",
    "event",
    "name",
    "version",
    "stage",
    "environment",
    "command",
    "runs_on",
    "concurrency",
    "timeout_minutes",
    "tag",
    "commit",
    "path",
    "type",
)


def matrix_workflow(matrix: dict[str, Any]) -> dict[str, Any]:
    """The shape of examples/workflows/deploy-job.yml, with the matrix pasted in as an object."""
    env = {f"STAGETAG_{k.upper()}": f"${{{{ matrix.{k} }}}}" for k in MATRIX_KEYS if k != "runs_on"}
    env["COMMAND"] = "${{ matrix.command }}"
    return {
        "name": "Deploy",
        "on": {"push": {"tags": ["**"]}},
        "permissions": {},
        "jobs": {
            "deploy": {
                "name": "${{ matrix.action }} ${{ matrix.name }} ${{ matrix.version }} "
                "to ${{ matrix.stage }}",
                "strategy": {"fail-fast": False, "matrix": matrix},
                "runs-on": "${{ matrix.runs_on }}",
                "environment": "${{ matrix.environment }}",
                "concurrency": {"group": "${{ matrix.concurrency }}", "cancel-in-progress": False},
                "timeout-minutes": "${{ matrix.timeout_minutes }}",
                "permissions": {"contents": "read"},
                "steps": [
                    {
                        "uses": "actions/checkout@v5",
                        "with": {"ref": "${{ matrix.commit }}", "persist-credentials": False},
                    },
                    {"name": "Run the deploy command", "env": env, "run": 'bash -c "$COMMAND"'},
                ],
            }
        },
    }


def validate_github_matrix(matrix: dict[str, Any], folder: Path) -> None:
    """The matrix in a workflow passes the GitHub workflow schema and actionlint."""
    workflow = folder / ".github" / "workflows" / "deploy.yml"
    write(workflow, yaml.safe_dump(matrix_workflow(matrix), sort_keys=False))
    schema = subprocess.run(
        [executable("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", workflow],
        capture_output=True,
        text=True,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr
    lint = subprocess.run(
        [executable("actionlint"), "-no-color", "-shellcheck=", "-pyflakes=", str(workflow)],
        capture_output=True,
        text=True,
        cwd=folder,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr


def validate_gitlab(text: str, folder: Path) -> None:
    child = write(folder / "child-pipeline.yml", text)
    result = subprocess.run(
        [executable("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(child)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]
