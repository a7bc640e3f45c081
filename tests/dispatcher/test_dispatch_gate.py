"""The promotion policy holds at deploy time: a stage tag pushed by hand that skips the order,
comes from an actor a protected stage does not allow, or sits on a commit outside its branches
plans no job; the others still deploy."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import GitRepo, make_repo, run_stagetag

CONFIG = """\
deploy:
  stages:
    staging:
      deploy: ./deploy.sh {{ name }} {{ version }} staging
    prod:
      deploy: ./deploy.sh {{ name }} {{ version }} prod
      undeploy: ./undeploy.sh {{ name }}
promotion:
  order: [staging, prod]
  protected:
    prod:
      actors: [release-bot]
      branches: [main]
"""


def setup(tmp_path: Path) -> tuple[GitRepo, Path, dict[str, str]]:
    """v1 went through staging on main; v2 (on main) and v3 (on a side branch) did not."""
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    work = make_repo(tmp_path / "work")
    (work.path / "stagetag.yaml").write_text(CONFIG)
    v1 = work.commit("v1")
    v2 = work.commit("v2")
    work.git("remote", "add", "origin", str(bare))
    work.git("push", "-q", "origin", "main")
    work.git("checkout", "-q", "-b", "side")
    v3 = work.commit("v3")
    work.git("push", "-q", "origin", "side")
    for name, commit, minute in [
        ("m@v1.0.0", v1, 0),
        ("m#staging#1", v1, 1),
        ("m@v2.0.0", v2, 2),
        ("m@v3.0.0", v3, 3),
        ("m#staging#2", v3, 4),
    ]:
        work.tag(name, commit, f"2024-02-01T00:{minute:02}:00+0000")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"repository": {"default_branch": "main"}}))
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": str(event)}
    return work, bare, env


def push_tag(work: GitRepo, name: str, target: str, minute: int) -> str:
    work.tag(name, target, f"2024-02-01T01:{minute:02}:00+0000")
    work.git("push", "-q", "origin", "--tags")
    return f"refs/tags/{name}"


def dispatch(work: GitRepo, env: dict[str, str], ref: str, actor: str):  # type: ignore[no-untyped-def]
    return run_stagetag("dispatch", ref, cwd=work.path, env={**env, "GITHUB_ACTOR": actor})


@pytest.mark.parametrize(
    ("version", "actor", "why"),
    [
        ("v2.0.0", "release-bot", "before 'staging'"),  # skipped the order
        ("v1.0.0", "eve", "only release-bot may change it"),  # not an allowed actor
        ("v3.0.0", "release-bot", "is not on main"),  # in staging, but off the branch
    ],
)
def test_a_tag_that_breaks_the_policy_plans_nothing(
    tmp_path: Path, version: str, actor: str, why: str
) -> None:
    work, _, env = setup(tmp_path)
    target = work.git("rev-parse", f"m@{version}^{{commit}}")
    ref = push_tag(work, "m#prod#9", target, 0)
    result = dispatch(work, env, ref, actor)
    assert result.returncode == 5, result.stderr
    assert json.loads(result.stdout)["jobs"] == []
    notices = [line for line in result.stderr.splitlines() if ": not deployed, " in line]
    assert len(notices) == 1 and why in notices[0]
    assert result.stderr.splitlines()[-1].startswith("stagetag: error: 1 tag(s) broke")


def test_a_tag_that_keeps_the_policy_deploys(tmp_path: Path) -> None:
    work, _, env = setup(tmp_path)
    ref = push_tag(work, "m#prod#9", work.git("rev-parse", "m@v1.0.0^{commit}"), 0)
    result = dispatch(work, env, ref, "release-bot")
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    assert job["command"] == "./deploy.sh m v1.0.0 prod"


def test_taking_a_protected_stage_away_is_guarded_too(tmp_path: Path) -> None:
    """Deregistering prod's holder gives prod to nobody (an undeploy): the same actors."""
    work, _, env = setup(tmp_path)
    v1 = work.git("rev-parse", "m@v1.0.0^{commit}")
    assert dispatch(work, env, push_tag(work, "m#prod#9", v1, 0), "release-bot").returncode == 0
    ref = push_tag(work, "m@v1.0.0!", v1, 1)
    result = dispatch(work, env, ref, "eve")
    assert result.returncode == 5
    assert json.loads(result.stdout)["jobs"] == []
    assert dispatch(work, env, ref, "release-bot").returncode == 0
