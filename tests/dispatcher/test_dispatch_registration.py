"""Registrations can trigger a job too (e.g. publish a model package), when configured."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import GitRepo
from dispatch_helpers import stagetag, validate_gitlab

CONFIG = """\
deploy:
  events: [registration, assignment]
  registration:
    environment: packages
    deploy: ./publish.sh {{ name }} {{ version }}
  stages:
    prod:
      deploy: ./deploy.sh {{ name }} {{ version }}
"""


def test_registration_job_runs_for_a_registered_version(repo: GitRepo, tmp_path: Path) -> None:
    (repo.path / "stagetag.yaml").write_text(CONFIG)
    sha = repo.commit("c1")
    repo.tag("m@v1.0.0", sha, "2024-02-01T00:00:00+0000")
    repo.tag("m#prod#1", sha, "2024-02-02T00:00:00+0000")
    result = stagetag("dispatch", "m@v1.0.0", "m#prod#1", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    jobs = json.loads(result.stdout)["jobs"]
    assert [(j["stage"], j["environment"], j["command"]) for j in jobs] == [
        ("", "packages", "./publish.sh m v1.0.0"),
        ("prod", "prod", "./deploy.sh m v1.0.0"),
    ]
    gitlab = stagetag("dispatch", "m@v1.0.0", "--format", "gitlab", cwd=repo.path)
    assert "deploy m registration" in gitlab.stdout
    validate_gitlab(gitlab.stdout, tmp_path)


def test_registration_is_not_a_job_unless_configured(repo: GitRepo) -> None:
    (repo.path / "stagetag.yaml").write_text(CONFIG.replace("registration, ", ""))
    sha = repo.commit("c1")
    repo.tag("m@v1.0.0", sha, "2024-02-01T00:00:00+0000")
    result = stagetag("dispatch", "m@v1.0.0", cwd=repo.path)
    assert json.loads(result.stdout)["jobs"] == []
    assert "registration events do not deploy" in result.stderr


def test_a_deregistered_version_is_not_published(repo: GitRepo) -> None:
    (repo.path / "stagetag.yaml").write_text(CONFIG)
    sha = repo.commit("c1")
    repo.tag("m@v1.0.0", sha, "2024-02-01T00:00:00+0000")
    repo.tag("m@v1.0.0!", sha, "2024-02-02T00:00:00+0000")
    result = stagetag("dispatch", "m@v1.0.0", cwd=repo.path)
    assert json.loads(result.stdout)["jobs"] == []
    assert "no longer registered" in result.stderr
