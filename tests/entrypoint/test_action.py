"""`stagetag action` as a CI runs it: inputs from the environment, outputs to files, and the
explicit workflow_dispatch call that starts the deploy workflow (tags pushed with
GITHUB_TOKEN start none), against a real HTTP server on loopback."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import GitRepo, clean_environ, make_repo


class Recorder(BaseHTTPRequestHandler):
    """Answers every POST with the status the test chose, and keeps what it was sent."""

    status = 204
    calls: list[dict[str, Any]] = []  # noqa: RUF012 - one server per test, reset by the fixture

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.calls.append(
            {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
        )
        self.send_response(Recorder.status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    Recorder.calls, Recorder.status = [], 204
    server = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def workspace(tmp_path: Path) -> GitRepo:
    """A clone of a bare remote with one registered version, as actions/checkout leaves it."""
    seed = make_repo(tmp_path / "seed")
    sha = seed.commit("c1")
    seed.tag("m@v1.0.0", sha, "2024-02-01T00:00:00+0000")
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(seed.path), str(bare)], check=True)
    subprocess.run(["git", "clone", "-q", str(bare), str(tmp_path / "ws")], check=True)
    return GitRepo(tmp_path / "ws")


def run_action(ws: GitRepo, **inputs: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    outputs = ws.path.parent / "github_output"
    outputs.write_text("")
    env = {
        **clean_environ(),
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(ws.path),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_REF_NAME": "main",
        "GITHUB_ACTOR": "octocat",
        **inputs,
    }
    result = subprocess.run(
        ["stagetag", "action"], cwd=ws.path, env=env, capture_output=True, text=True
    )
    return result, outputs


ASSIGN_AND_DISPATCH = {
    "INPUT_NAME": "m",
    "INPUT_VERSION": "v1.0.0",
    "INPUT_STAGE": "prod",
    "INPUT_TOKEN": "t0ken",
    "INPUT_DISPATCH_WORKFLOW": "deploy-on-tag.yml",
}


def test_dispatch_workflow_starts_the_deploy_workflow(workspace: GitRepo, api: str) -> None:
    result, outputs = run_action(workspace, GITHUB_API_URL=api, **ASSIGN_AND_DISPATCH)
    assert result.returncode == 0, result.stdout + result.stderr
    [call] = Recorder.calls
    assert call["path"] == "/repos/acme/models/actions/workflows/deploy-on-tag.yml/dispatches"
    assert call["headers"]["Authorization"] == "Bearer t0ken"
    assert call["body"] == {"ref": "main", "inputs": {"tag": "m#prod#1"}}
    assert "tag<<" in outputs.read_text() and "m#prod#1" in outputs.read_text()
    assert "::notice title=stagetag::started workflow deploy-on-tag.yml" in result.stdout


def test_a_refused_dispatch_is_one_clear_error(workspace: GitRepo, api: str) -> None:
    Recorder.status = 403
    result, _ = run_action(workspace, GITHUB_API_URL=api, **ASSIGN_AND_DISPATCH)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "HTTP 403" in result.stderr and "actions: write" in result.stderr
    assert "::error title=stagetag::" in result.stdout


def test_no_dispatch_when_nothing_was_created(workspace: GitRepo, api: str) -> None:
    run_action(workspace, GITHUB_API_URL=api, **ASSIGN_AND_DISPATCH)
    result, outputs = run_action(workspace, GITHUB_API_URL=api, **ASSIGN_AND_DISPATCH)
    assert result.returncode == 0
    assert len(Recorder.calls) == 1  # the second run changed nothing, so started nothing
    assert "created<<" in outputs.read_text() and "\nfalse\n" in outputs.read_text()


def test_a_tag_a_killed_run_left_is_pushed_and_deployed(workspace: GitRepo, api: str) -> None:
    """The first run made m#prod#1 and never pushed it (as a run killed before its push);
    the next one, asked the same, pushes it, says so, and starts its deploy."""
    run_action(workspace, GITHUB_API_URL=api, **ASSIGN_AND_DISPATCH, INPUT_PUSH="false")
    assert Recorder.calls == []
    result, outputs = run_action(workspace, GITHUB_API_URL=api, **ASSIGN_AND_DISPATCH)
    assert result.returncode == 0, result.stdout + result.stderr
    [call] = Recorder.calls
    assert call["body"] == {"ref": "main", "inputs": {"tag": "m#prod#1"}}
    written = outputs.read_text()
    assert "recovered<<" in written and "\nm#prod#1\n" in written
    assert "created<<" in written and "\nfalse\n" in written
    remote = workspace.git("ls-remote", "--tags", "origin", "m#prod#1")
    assert remote.endswith("refs/tags/m#prod#1")


def test_hyphenated_inputs_are_read(workspace: GitRepo) -> None:
    result, _ = run_action(
        workspace,
        **{
            "INPUT_NAME": "m",
            "INPUT_VERSION": "v1.0.0",
            "INPUT_STAGE": "qa",
            "INPUT_DRY-RUN": "true",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "m#qa#1" in result.stdout
    assert workspace.git("tag", "-l", "m#qa*") == ""  # a dry run creates nothing


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ({"INPUT_COMMAND": "promote-all", "INPUT_NAME": "m"}, ["'command'", "promote-all"]),
        ({"INPUT_NAME": ""}, ["'name' is required"]),
        ({"INPUT_NAME": "m", "INPUT_STAGE": "qa", "INPUT_PUSH": "maybe"}, ["'push'", "maybe"]),
    ],
)
def test_bad_inputs_are_one_line_errors(
    workspace: GitRepo, inputs: dict[str, str], words: list[str]
) -> None:
    result, _ = run_action(workspace, **inputs)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert all(word in line for word in words)
    assert workspace.git("tag", "-l") == "m@v1.0.0"


def test_a_multiline_description_cannot_inject_a_workflow_command(workspace: GitRepo) -> None:
    """check-ref prints dvc.yaml's description to the log; a newline in it must not let a
    `::command::` start a line."""
    (workspace.path / "dvc.yaml").write_text(
        'artifacts:\n  m:\n    path: m.pkl\n    desc: "fine\\n::error::injected"\n'
    )
    workspace.git("add", "dvc.yaml")
    workspace.git("commit", "-qm", "annotate")
    sha = workspace.git("rev-parse", "HEAD")
    workspace.tag("m@v2.0.0", sha, "2024-03-01T00:00:00+0000", "Registering artifact m")
    result, outputs = run_action(
        workspace, INPUT_COMMAND="check-ref", INPUT_REF="refs/tags/m@v2.0.0"
    )
    assert result.returncode == 0, result.stderr
    assert not any(line.startswith("::error") for line in result.stdout.splitlines())
    assert "fine\n::error::injected" in outputs.read_text()  # intact inside the heredoc entry


def test_dashboard_refuses_a_shallow_checkout(tmp_path: Path, workspace: GitRepo) -> None:
    """actions/checkout's default depth: the site would silently miss tags and commits."""
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{tmp_path / 'origin.git'}", str(shallow)],
        check=True,
    )
    result, outputs = run_action(GitRepo(shallow), INPUT_COMMAND="dashboard")
    assert result.returncode == 1
    [line] = result.stdout.splitlines()
    assert line.startswith("::error") and "fetch-depth: 0" in line
    assert outputs.read_text() == ""
    assert not (shallow / "site").exists()


@pytest.mark.parametrize("variable", ["INPUT_MESSAGE", "STAGETAG_MESSAGE", "INPUT_DRY-RUN"])
def test_a_token_inside_another_input_is_refused(workspace: GitRepo, variable: str) -> None:
    """E.g. a form's message that the CI system expanded from `$STAGETAG_TOKEN`: it would be
    pushed in the tag's message."""
    inputs = {**ASSIGN_AND_DISPATCH, variable: "deploy with t0ken please"}
    del inputs["INPUT_DISPATCH_WORKFLOW"]
    result, outputs = run_action(workspace, **inputs)
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert "contains the token" in line and "t0ken" not in line
    assert outputs.read_text() == ""
    assert workspace.git("tag", "-l", "m#*") == ""


def test_errors_name_the_actions_inputs_not_the_clis_flags(workspace: GitRepo) -> None:
    result, _ = run_action(
        workspace,
        INPUT_COMMAND="deprecate",
        INPUT_NAME="m",
        INPUT_FORCE="true",
        INPUT_SIMPLE="true",
    )
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert line.endswith("input 'force: true' writes a numbered tag; drop input 'simple: true'")
    assert "--" not in line


def test_a_token_with_a_newline_is_refused_before_anything_prints(workspace: GitRepo) -> None:
    """`::add-mask::` masks one line: the second line of such a token would print as is."""
    inputs = {**ASSIGN_AND_DISPATCH, "INPUT_TOKEN": "first-half\nsecond-half"}
    del inputs["INPUT_DISPATCH_WORKFLOW"]
    result, outputs = run_action(workspace, **inputs)
    assert result.returncode == 1
    assert "half" not in result.stdout + result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith("::error") and "input 'token'" in line
    assert outputs.read_text() == ""


def test_a_token_in_a_remote_url_never_shows(workspace: GitRepo, tmp_path: Path) -> None:
    url = "http://x-access-token:ghs_S3CR3T@127.0.0.1:9/acme/models.git"  # nothing listens
    inputs = {"INPUT_NAME": "m", "INPUT_VERSION": "v1.0.0", "INPUT_STAGE": "prod"}
    result, _ = run_action(workspace, **inputs, INPUT_REMOTE=url)
    assert result.returncode == 1
    assert "S3CR3T" not in result.stdout + result.stderr
    assert "http://***@127.0.0.1:9/acme/models.git" in result.stdout
    refs = workspace.git("for-each-ref", "--format=%(refname)")
    assert "S3CR3T" not in refs and "m#prod" not in workspace.git("tag", "-l")
