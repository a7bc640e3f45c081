"""The one git runner: every git process gets the run's settings explicitly (never through
os.environ), in the C locale, and failures are told apart by facts, not by git's words."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import GitRepo

from stagetag import gitio


def test_settings_reach_git_only_inside_the_block(repo: GitRepo) -> None:
    repo.commit("c1")
    before = dict(os.environ)
    with gitio.configured(gitio.GitEnv((("stagetag.probe", "on"),))):
        assert gitio.run_git(repo.path, "config", "stagetag.probe").strip() == "on"
    assert dict(os.environ) == before
    with pytest.raises(gitio.GitError) as raised:
        gitio.run_git(repo.path, "config", "stagetag.probe")
    assert raised.value.returncode == 1  # git config: key not set


def test_settings_come_after_the_callers_own() -> None:
    env = gitio.GitEnv((("a.b", "1"),)).environ(
        {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "x.y", "GIT_CONFIG_VALUE_0": "2"}
    )
    assert env["GIT_CONFIG_COUNT"] == "2"
    assert (env["GIT_CONFIG_KEY_0"], env["GIT_CONFIG_KEY_1"]) == ("x.y", "a.b")


def test_git_speaks_c_whatever_the_callers_language() -> None:
    env = gitio.GitEnv().environ({"LANGUAGE": "de", "LANG": "de_DE.UTF-8", "LC_ALL": "de_DE"})
    assert env["LC_ALL"] == "C" and "LANGUAGE" not in env


def test_the_identity_fills_in_only_what_is_not_set() -> None:
    identity = ("octocat", "octocat@users.noreply.github.com")
    env = gitio.GitEnv(identity=identity).environ({})
    assert (env["GIT_COMMITTER_NAME"], env["GIT_COMMITTER_EMAIL"]) == identity
    kept = gitio.GitEnv(identity=identity).environ(
        {"GIT_COMMITTER_NAME": "Ann", "GIT_COMMITTER_EMAIL": "ann@example.com"}
    )
    assert kept["GIT_COMMITTER_NAME"] == "Ann"


def test_an_unreachable_remote_is_typed(repo: GitRepo, tmp_path: Path) -> None:
    repo.commit("c1")
    missing = str(tmp_path / "nowhere.git")
    with pytest.raises(gitio.RemoteUnreachable) as fetched:
        gitio.fetch(repo.path, missing, "refs/tags/*:refs/tags/*")
    assert fetched.value.returncode != 0 and fetched.value.stderr
    with pytest.raises(gitio.RemoteUnreachable):
        gitio.push(repo.path, missing, ["HEAD:refs/heads/main"])


def test_a_refused_push_is_a_result_not_an_error(repo: GitRepo, tmp_path: Path) -> None:
    sha = repo.commit("c1")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    repo.tag("m@v1.0.0", sha, "2024-01-01T00:00:00+0000")
    assert gitio.push(repo.path, str(bare), ["refs/tags/m@v1.0.0"]).accepted
    repo.git("tag", "-d", "m@v1.0.0")
    repo.tag("m@v1.0.0", sha, "2024-01-02T00:00:00+0000", "another object")
    result = gitio.push(repo.path, str(bare), ["refs/tags/m@v1.0.0"])
    assert not result.accepted and len(result.rejections) == 1


def test_no_identity_is_typed_and_says_what_to_set(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = repo.commit("c1")
    for key in ("GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("EMAIL", "")
    repo.git("config", "user.useConfigOnly", "true")
    with pytest.raises(gitio.NoIdentity) as raised:
        gitio.create_tag(repo.path, "m@v1.0.0", sha, "message")
    assert "user.name" in str(raised.value)
    assert gitio.local_refs(repo.path, "refs/tags") == {}
