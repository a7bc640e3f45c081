"""`stagetag action` in its `command: check-ref` and `command: dispatch` modes, as a GitHub (or
GitLab) job runs it: a fresh clone as workspace, the triggering tag in GITHUB_REF, outputs in
the GITHUB_OUTPUT file (heredoc entries) or a dotenv report."""

from __future__ import annotations

import json
import os
import subprocess
import tty
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import GitRepo, clean_environ, isolated_git, make_repo, read_github_output

from stagetag.grammar import name_to_tag, parse_tag

OUTPUT_KEYS = ("event", "name", "version", "stage", "type", "path", "description")

CONFIG = """\
deploy:
  stages:
    prod:
      environment: production
      deploy: ./deploy.sh {{ path }} {{ version }}
      undeploy: ./undeploy.sh {{ name }}
"""

# gto-interop.md Part E, plus the annotations each artifact has in dvc.yaml
TAGS = [  # (tag, commit index)
    ("m@v0.0.1", 1),
    ("m@v0.0.2", 2),
    ("m#prod#2", 2),
    ("m@v1.2.4#1", 3),
    ("m@v0.1.0", 4),
    ("m@v0.1.0!", 4),
    ("m#prod!#5", 2),
    ("x@v0.0.1", 1),
    ("x@deprecated", 1),
    ("path/to=model@v0.0.1", 1),
    ("path/to=model#prod#1", 1),
]
M = {"type": "model", "path": "models/m.pkl", "description": "churn model"}
NESTED = {"type": "model", "path": "path/to/weights.bin", "description": "nested"}
NONE = {"type": "", "path": "", "description": ""}
PART_E = [
    ("refs/tags/m@v0.0.1", {"event": "registration", "name": "m", "version": "v0.0.1", **M}),
    ("refs/tags/m@v1.2.4#1", {"event": "registration", "name": "m", "version": "v1.2.4", **M}),
    (
        "refs/tags/m#prod#2",
        {"event": "assignment", "name": "m", "version": "v0.0.2", "stage": "prod", **M},
    ),
    (
        "refs/tags/m#prod!#5",
        {"event": "unassignment", "name": "m", "version": "v0.0.2", "stage": "prod", **M},
    ),
    ("refs/tags/m@v0.1.0!", {"event": "deregistration", "name": "m", "version": "v0.1.0", **M}),
    ("refs/tags/x@deprecated", {"event": "deprecation", "name": "x", **NONE}),
    (
        "refs/tags/path/to=model#prod#1",
        {
            "event": "assignment",
            "name": "path/to:model",
            "version": "v0.0.1",
            "stage": "prod",
            **NESTED,
        },
    ),
    ("refs/heads/main", {}),
    ("refs/tags/release-1.0", {}),
]


@dataclass(frozen=True)
class Origin:
    bare: Path
    commits: dict[int, str]


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Origin:
    base = tmp_path_factory.mktemp("action")
    with isolated_git(base):
        bare = base / "origin.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
        work = make_repo(base / "work")
        (work.path / "stagetag.yaml").write_text(CONFIG)
        (work.path / "dvc.yaml").write_text(
            "artifacts:\n  m:\n    type: model\n    path: models/m.pkl\n    desc: churn model\n"
        )
        (work.path / "path" / "to").mkdir(parents=True)
        (work.path / "path" / "to" / "dvc.yaml").write_text(
            "artifacts:\n  model:\n    type: model\n    path: weights.bin\n    desc: nested\n"
        )
        commits = {
            n: work.commit(f"c{n}", date=f"2024-01-0{n}T12:00:00+0000") for n in (1, 2, 3, 4)
        }
        for i, (tag, n) in enumerate(TAGS):
            work.tag(tag, commits[n], f"@{1706745600 + 60 * i} +0000", message=f"msg {tag}")
        work.tag("release-1.0", commits[4], "@1706800000 +0000", message="not a gto tag")
        work.git("remote", "add", "origin", str(bare))
        work.git("push", "-q", "origin", "main", "--tags")
    return Origin(bare, commits)


def workspace(origin: Origin, dest: Path, *options: str) -> GitRepo:
    subprocess.run(
        ["git", "clone", "-q", *options, f"file://{origin.bare}", str(dest)],
        check=True,
        capture_output=True,
    )
    return GitRepo(dest)


def action(
    ws: Path, tmp_path: Path, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    output = tmp_path / "github_output"
    output.write_text("")
    base = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(ws),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }
    result = subprocess.run(
        ["stagetag", "action"],
        cwd=ws,
        env={**clean_environ(), **base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result, read_github_output(output)


@pytest.fixture
def ws(origin: Origin, tmp_path: Path) -> Path:
    return workspace(origin, tmp_path / "ws").path


@pytest.mark.parametrize(("ref", "expected"), PART_E, ids=[r for r, _ in PART_E])
def test_check_ref_gives_gto_action_outputs(
    ws: Path, tmp_path: Path, ref: str, expected: dict[str, str]
) -> None:
    result, outputs = action(ws, tmp_path, GITHUB_REF=ref, INPUT_COMMAND="check-ref")
    assert result.returncode == 0, result.stderr
    assert outputs == {key: expected.get(key, "") for key in OUTPUT_KEYS}
    for key in OUTPUT_KEYS:
        assert f"{key}: {expected.get(key, '')}" in result.stdout.splitlines()


def test_check_ref_on_a_lightweight_tag_is_empty(origin: Origin, tmp_path: Path) -> None:
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(origin.bare), str(bare)], check=True)
    subprocess.run(["git", "-C", str(bare), "tag", "m#prod#99", origin.commits[1]], check=True)
    ws = workspace(Origin(bare, origin.commits), tmp_path / "ws").path
    result, outputs = action(
        ws, tmp_path, GITHUB_REF="refs/tags/m#prod#99", INPUT_COMMAND="check-ref"
    )
    assert result.returncode == 0, result.stderr
    assert outputs == dict.fromkeys(OUTPUT_KEYS, "")


def test_check_ref_fetches_tags_in_a_shallow_workspace(origin: Origin, tmp_path: Path) -> None:
    ws = workspace(origin, tmp_path / "ws", "--depth", "1").path
    result, outputs = action(
        ws, tmp_path, GITHUB_REF="refs/tags/m#prod#2", INPUT_COMMAND="check-ref"
    )
    assert result.returncode == 0, result.stderr
    assert (outputs["event"], outputs["version"], outputs["path"]) == (
        "assignment",
        "v0.0.2",
        "models/m.pkl",
    )


def test_check_ref_on_gitlab_writes_a_dotenv_report(ws: Path, tmp_path: Path) -> None:
    env = {
        **clean_environ(),
        "GITLAB_CI": "true",
        "CI_PROJECT_DIR": str(ws),
        "CI_COMMIT_TAG": "path/to=model#prod#1",
        "STAGETAG_COMMAND": "check-ref",
    }
    result = subprocess.run(["stagetag", "action"], cwd=ws, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (ws / "stagetag.env").read_text() == (
        "STAGETAG_OUT_EVENT=assignment\nSTAGETAG_OUT_NAME=path/to:model\n"
        "STAGETAG_OUT_VERSION=v0.0.1\nSTAGETAG_OUT_STAGE=prod\nSTAGETAG_OUT_TYPE=model\n"
        "STAGETAG_OUT_PATH=path/to/weights.bin\nSTAGETAG_OUT_DESCRIPTION=nested\n"
    )


def test_dispatch_mode_writes_matrix_and_has_jobs(origin: Origin, ws: Path, tmp_path: Path) -> None:
    result, outputs = action(
        ws, tmp_path, GITHUB_REF="refs/tags/path/to=model#prod#1", INPUT_COMMAND="dispatch"
    )
    assert result.returncode == 0, result.stderr
    assert set(outputs) == {"matrix", "has_jobs"}
    assert outputs["has_jobs"] == "true"
    assert "\n" not in outputs["matrix"]
    matrix = json.loads(outputs["matrix"])
    assert matrix == {
        "include": [
            {
                "name": "path/to:model",
                "version": "v0.0.1",
                "stage": "prod",
                "environment": "production",
                "action": "deploy",
                "command": "./deploy.sh path/to/weights.bin v0.0.1",
                "runs_on": ["ubuntu-latest"],
                "concurrency": "deploy-path/to-model-prod",
                "timeout_minutes": 30,
                "tag": "path/to=model#prod#1",
                "event": "assignment",
                "commit": origin.commits[1],
                "path": "path/to/weights.bin",
                "type": "model",
            }
        ]
    }
    assert json.loads(result.stdout.strip().splitlines()[-1]) == matrix
    summary = (tmp_path / "summary.md").read_text()
    assert "| deploy path/to:model v0.0.1 to prod (production) |" in summary


def test_dispatch_mode_unassignment_undeploys(ws: Path, tmp_path: Path) -> None:
    result, outputs = action(
        ws, tmp_path, GITHUB_REF="refs/tags/m#prod!#5", INPUT_COMMAND="dispatch"
    )
    assert result.returncode == 0, result.stderr
    [entry] = json.loads(outputs["matrix"])["include"]
    assert (entry["action"], entry["version"], entry["command"]) == (
        "undeploy",
        "",
        "./undeploy.sh m",
    )
    assert outputs["has_jobs"] == "true"


def test_dispatch_mode_ref_input_wins_over_github_ref(ws: Path, tmp_path: Path) -> None:
    # workflow_dispatch: GITHUB_REF is the branch, the tag comes as an input
    result, outputs = action(
        ws,
        tmp_path,
        GITHUB_REF="refs/heads/main",
        INPUT_COMMAND="dispatch",
        INPUT_REF="path/to=model#prod#1",
    )
    assert result.returncode == 0, result.stderr
    assert outputs["has_jobs"] == "true"


@pytest.mark.parametrize(
    "ref",
    [
        "refs/heads/main",
        "refs/tags/release-1.0",
        "refs/tags/m#prod#2",  # stale: unassigned since
        "refs/tags/$(touch pwned)#prod#1",
        "refs/tags/x\n::set-output name=has_jobs::true",
        "refs/tags/${{ secrets.GITHUB_TOKEN }}",
    ],
)
def test_dispatch_mode_without_jobs(ws: Path, tmp_path: Path, ref: str) -> None:
    result, outputs = action(ws, tmp_path, GITHUB_REF=ref, INPUT_COMMAND="dispatch")
    assert result.returncode == 0, result.stderr
    assert outputs == {"matrix": '{"include":[]}', "has_jobs": "false"}
    assert (tmp_path / "summary.md").read_text() == "### stagetag: nothing to deploy\n"
    assert not (ws / "pwned").exists()
    for line in result.stdout.splitlines():
        if line.startswith("::"):
            assert line.startswith(("::notice title=stagetag::", "::warning title=stagetag::"))


def cli_dispatch(ws: Path, ref: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["stagetag", "dispatch", ref, "--format", "github"],
        cwd=ws,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "ref",
    [
        "refs/tags/m#prod#2",  # stale: a notice, no job
        "refs/tags/path/to=model#prod#1",  # a job
        "refs/tags/x@deprecated",  # deprecation events do not deploy by default: a notice
        "refs/tags/release-1.0",  # not a GTO tag: a notice
    ],
)
def test_cli_and_action_report_the_same_plan(
    origin: Origin, ws: Path, tmp_path: Path, ref: str
) -> None:
    """One dispatch use case: the same jobs, notices and skipped-tag warnings whichever way in.
    The clone also holds a tag the registry skips (an '@created' tag of the ref's artifact),
    which both must name; only the tags of the ref's artifact are read."""
    parsed = parse_tag(ref)
    poison = f"{name_to_tag(parsed.artifact) if parsed else 'm'}@created"
    GitRepo(ws).tag(poison, origin.commits[1], "@1706900000 +0000", message="poison")
    cli = cli_dispatch(ws, ref)
    result, outputs = action(ws, tmp_path, INPUT_COMMAND="dispatch", INPUT_REF=ref)
    assert cli.returncode == result.returncode == 0, cli.stderr + result.stderr
    assert json.loads(cli.stdout) == json.loads(outputs["matrix"])
    cli_lines = [line.removeprefix("stagetag: ") for line in cli.stderr.splitlines()]
    cli_warnings = [line.removeprefix("warning: ") for line in cli_lines if "warning: " in line]
    cli_notices = [line for line in cli_lines if not line.startswith("warning: ")]
    action_lines = result.stdout.splitlines()
    prefix = {"notice": "::notice title=stagetag::", "warning": "::warning title=stagetag::"}
    action_notices = [
        x.removeprefix(prefix["notice"]) for x in action_lines if x.startswith(prefix["notice"])
    ]
    action_warnings = [
        x.removeprefix(prefix["warning"]) for x in action_lines if x.startswith(prefix["warning"])
    ]
    assert any(f"'{poison}'" in w for w in cli_warnings) == (parsed is not None)
    assert action_warnings == cli_warnings
    assert action_notices == cli_notices
    jobs = json.loads(cli.stdout)["include"]
    assert bool(jobs) == (outputs["has_jobs"] == "true")
    assert jobs or cli_notices, "no job and no notice saying why"


def test_the_script_is_the_same_on_a_terminal_in_a_pipe_and_in_a_file(
    origin: Origin, ws: Path, tmp_path: Path
) -> None:
    """A terminal escape in a tag message: quoted as text in the script, and the script's bytes
    do not depend on where they go (click would strip escapes from a pipe, not a terminal)."""
    repo = GitRepo(ws)
    (ws / "stagetag.yaml").write_text(
        CONFIG.replace("{{ version }}", "{{ version }} {{ message }}")
    )
    repo.git("commit", "-qam", "message in the command")
    ref = "refs/tags/path/to=model#prod#1"
    repo.git(
        "tag", "-f", "-a", ref.removeprefix("refs/tags/"), "-m", "\x1b]0;pwned\x07\x1b[2J", "HEAD~1"
    )
    argv = ["stagetag", "dispatch", ref, "--format", "script", "--no-fetch"]
    piped = subprocess.run(argv, cwd=ws, env=clean_environ(), capture_output=True, timeout=60)
    assert piped.returncode == 0, piped.stderr
    subprocess.run([*argv, "-o", str(tmp_path / "s.sh")], cwd=ws, env=clean_environ(), check=True)
    leader, follower = os.openpty()
    tty.setraw(follower)  # no newline translation: the bytes as the program wrote them
    with subprocess.Popen(argv, cwd=ws, env=clean_environ(), stdout=follower) as process:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=60)
    os.close(leader)
    on_a_terminal = b"".join(chunks)
    assert piped.stdout == on_a_terminal == (tmp_path / "s.sh").read_bytes()
    assert b"\x1b" not in piped.stdout and b"\\x1b]0;pwned\\x07" in piped.stdout
