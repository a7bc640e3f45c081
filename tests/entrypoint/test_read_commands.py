"""The read commands as a user runs them: the real `stagetag` executable on real repositories."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import GitRepo, run_stagetag


def stagetag(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_stagetag(*args, cwd=cwd)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


@pytest.fixture
def registry(repo: GitRepo) -> GitRepo:
    sha = repo.commit("c1")
    repo.tag("m@v1.0.0-rc.1+build.7", sha, "2024-02-01T00:00:00+0000")
    repo.tag("m#prod#1", sha, "2024-02-02T00:00:00+0000")
    return repo


def test_unknown_artifact_is_one_line(registry: GitRepo) -> None:
    assert_one_line_error(stagetag("show", "nothere", cwd=registry.path), "'nothere'")


def test_not_a_repository_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(stagetag("show", cwd=tmp_path), "is not a git repository git can use")
    missing = tmp_path / "missing"
    assert_one_line_error(stagetag("history", "-r", str(missing), cwd=tmp_path), "does not exist")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the repository away")
def test_a_repository_git_refuses_says_why(registry: GitRepo) -> None:
    """A checkout owned by another user (a CI workspace in a container): git's own reason,
    not a claim that there is no repository."""
    subprocess.run(["chown", "-R", "12345:12345", str(registry.path)], check=True)
    assert_one_line_error(stagetag("show", cwd=registry.path), "dubious ownership")


def test_two_output_flags_are_refused(registry: GitRepo) -> None:
    result = stagetag("check-ref", "m#prod#1", "--json", "--name", cwd=registry.path)
    assert_one_line_error(result, "--json", "--name")


def test_version_flag_needs_an_artifact(registry: GitRepo) -> None:
    assert_one_line_error(stagetag("show", "--version", cwd=registry.path), "show NAME")


def test_tables_show_whole_versions(registry: GitRepo) -> None:
    table = stagetag("show", cwd=registry.path).stdout
    assert "v1.0.0-rc.1+build.7" in table
    assert "#prod" in table.splitlines()[0]
    assert "v1.0.0-rc.1+build.7" in stagetag("show", "m", cwd=registry.path).stdout


def test_check_ref_is_silent_for_anything_but_a_gto_tag(registry: GitRepo) -> None:
    for ref in ("refs/heads/main", "HEAD", "nothere", "m#prod#7"):
        result = stagetag("check-ref", ref, "--json", cwd=registry.path)
        assert (result.returncode, result.stdout) == (0, ""), ref


def test_check_ref_explains_a_tag(registry: GitRepo) -> None:
    result = stagetag("check-ref", "refs/tags/m#prod#1", cwd=registry.path)
    assert result.stdout.strip() == (
        'Stage "prod" was assigned to version "v1.0.0-rc.1+build.7" of artifact "m"'
    )


def test_poison_tags_are_named_and_the_rest_is_served(registry: GitRepo) -> None:
    registry.lightweight_tag("x@created", "HEAD")
    result = stagetag("show", "--json", cwd=registry.path)
    assert result.returncode == 0
    assert json.loads(result.stdout)["m"]["stage"] == {"prod": "v1.0.0-rc.1+build.7"}
    assert "x@created" in result.stderr


def test_stage_list_follows_gto_file(registry: GitRepo) -> None:
    (registry.path / ".gto").write_text("stages: [dev, prod]\n")
    assert stagetag("stages", cwd=registry.path).stdout.split() == ["dev", "prod"]
    assert stagetag("stages", "--used", cwd=registry.path).stdout.split() == ["prod"]
    (registry.path / ".gto").write_text("")
    assert stagetag("stages", "--allowed", "--json", cwd=registry.path).stdout.strip() == "null"
