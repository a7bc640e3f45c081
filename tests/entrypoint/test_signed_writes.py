"""Signing on write: `--sign-with KEY` on the command line, input 'signing_key' in the action
(the key's text on GitHub, masked line by line; a File variable's path on GitLab). Every tag
the run writes is signed; a stage with `signed: true` refuses a write without a key, or with a
key its allowed signers do not list, before anything is pushed. A key stagetag cannot use is
one error line before any tag is made, and its content never shows."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import GitRepo, clean_environ, run_stagetag, ssh_key

CONFIG = """\
promotion:
  signers: .stagetag/allowed_signers
  protected:
    prod:
      signed: true
"""


@dataclass(frozen=True)
class Workspace:
    ws: GitRepo  # a clone of `bare`, with m@v1.0.0 registered
    bare: Path
    bot: Path  # listed in the allowed signers
    eve: Path  # not listed
    signers: Path


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    bot, bot_public = ssh_key(tmp_path / "keys", "bot")
    eve, _ = ssh_key(tmp_path / "keys", "eve")
    seed = GitRepo(tmp_path / "seed")
    seed.path.mkdir()
    seed.git("init", "-q", "-b", "main")
    (seed.path / "stagetag.yaml").write_text(CONFIG)
    (seed.path / ".stagetag").mkdir()
    (seed.path / ".stagetag" / "allowed_signers").write_text(f"bot@example.com {bot_public}\n")
    seed.tag("m@v1.0.0", seed.commit("c1"), "2024-02-01T00:00:00+0000")
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(seed.path), str(bare)], check=True)
    subprocess.run(["git", "clone", "-q", str(bare), str(tmp_path / "ws")], check=True)
    ws = GitRepo(tmp_path / "ws")
    return Workspace(ws, bare, bot, eve, ws.path / ".stagetag" / "allowed_signers")


def verifies(repo: Path, tag: str, signers: Path) -> bool:
    result = subprocess.run(
        ["git", "-c", f"gpg.ssh.allowedSignersFile={signers}", "verify-tag", tag],
        cwd=repo,
        capture_output=True,
    )
    return result.returncode == 0


def remote_tags(bare: Path) -> set[str]:
    out = subprocess.run(["git", "-C", str(bare), "tag", "-l"], capture_output=True, text=True)
    return set(out.stdout.split())


def cli(w: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    return run_stagetag(*args, cwd=w.ws.path)


ASSIGN_PROD = ("assign", "m", "--version", "v1.0.0", "--stage", "prod", "--push")


def test_sign_with_signs_every_tag_written(workspace: Workspace) -> None:
    """assign of a new commit registers it first: both tags are signed, and pushed."""
    w = workspace
    w.ws.commit("c2")
    result = cli(w, "assign", "m", "HEAD", "--stage", "prod", "--push", "--sign-with", str(w.bot))
    assert result.returncode == 0, result.stderr
    assert remote_tags(w.bare) == {"m@v1.0.0", "m@v1.0.1", "m#prod#1"}
    assert verifies(w.ws.path, "m@v1.0.1", w.signers)
    assert verifies(w.ws.path, "m#prod#1", w.signers)


def test_a_signed_stage_needs_a_key(workspace: Workspace) -> None:
    result = cli(workspace, *ASSIGN_PROD)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "stage 'prod' takes only signed tags: give --sign-with KEY" in line
    assert ".stagetag/allowed_signers" in line
    assert workspace.ws.git("tag", "-l") == "m@v1.0.0"


def test_a_deregistration_that_empties_a_signed_stage_needs_a_key(workspace: Workspace) -> None:
    w = workspace
    assert cli(w, *ASSIGN_PROD, "--sign-with", str(w.bot)).returncode == 0
    result = cli(w, "deregister", "m", "v1.0.0", "--push")
    assert result.returncode == 1
    assert "stage 'prod' takes only signed tags" in result.stderr
    assert cli(w, "deregister", "m", "v1.0.0", "--push", "--sign-with", str(w.bot)).returncode == 0
    assert verifies(w.ws.path, "m@v1.0.0!", w.signers)


def test_a_key_the_signers_do_not_list_is_refused_before_the_push(workspace: Workspace) -> None:
    """Dispatch would refuse the tag while GTO counted it: it is neither kept nor pushed."""
    w = workspace
    result = cli(w, *ASSIGN_PROD, "--sign-with", str(w.eve))
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "'m#prod#1' is signed by key SHA256:" in line and "not kept" in line
    assert w.ws.git("tag", "-l") == "m@v1.0.0"
    assert remote_tags(w.bare) == {"m@v1.0.0"}


def test_a_stage_without_the_rule_takes_unsigned_tags(workspace: Workspace) -> None:
    result = cli(workspace, "assign", "m", "--version", "v1.0.0", "--stage", "dev")
    assert result.returncode == 0, result.stderr
    raw = workspace.ws.git("cat-file", "tag", "m#dev#1")
    assert "SIGNATURE" not in raw


def damaged(key: Path) -> str:
    lines = key.read_text().splitlines()
    return "\n".join([lines[0], *lines[1:-1][:-1], lines[-1]]) + "\n"  # a line short


def passphrase_key(folder: Path) -> Path:
    key = folder / "locked"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "s3cret", "-f", str(key)],
        check=True,
        capture_output=True,
    )
    return key


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda w: "not a key at all\n", ["is not an OpenSSH private key", "ssh-keygen"]),
        (lambda w: Path(f"{w.bot}.pub").read_text(), ["is not an OpenSSH private key"]),
        (lambda w: damaged(w.bot), ["damaged or cut short"]),
        (lambda w: passphrase_key(w.bot.parent).read_text(), ["passphrase"]),
    ],
    ids=["text", "public-key", "damaged", "passphrase"],
)
def test_a_key_stagetag_cannot_use_is_one_line_before_any_tag(
    workspace: Workspace,
    tmp_path: Path,
    make,
    words: list[str],  # type: ignore[no-untyped-def]
) -> None:
    w = workspace
    key = tmp_path / "given_key"
    key.write_text(make(w))
    key.chmod(0o600)
    result = cli(w, *ASSIGN_PROD, "--sign-with", str(key))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert f"signing key file {str(key)!r}" in line
    assert all(word in line for word in words), line
    body = key.read_text().splitlines()[1:-1]
    assert not any(part in result.stdout + result.stderr for part in body if len(part) > 8)
    assert w.ws.git("tag", "-l") == "m@v1.0.0"


def run_action(
    w: Workspace, kind: str, **inputs: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`stagetag action` on GitHub (INPUT_*) or GitLab (STAGETAG_*), with its own TMPDIR."""
    temp = w.ws.path.parent / "runner-temp"
    temp.mkdir(exist_ok=True)
    outputs = w.ws.path.parent / "outputs"
    outputs.write_text("")
    platform = (
        {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(w.ws.path), "GITHUB_ACTOR": "bot"}
        | {"GITHUB_OUTPUT": str(outputs)}
        if kind == "github"
        else {"GITLAB_CI": "true", "CI_PROJECT_DIR": str(w.ws.path), "GITLAB_USER_LOGIN": "bot"}
    )
    prefix = "INPUT_" if kind == "github" else "STAGETAG_"
    given = {f"{prefix}{name.upper()}": value for name, value in inputs.items()}
    env = {**clean_environ(), **platform, **given, "TMPDIR": str(temp)}
    result = subprocess.run(
        ["stagetag", "action"], cwd=w.ws.path, env=env, capture_output=True, text=True
    )
    return result, temp


ASSIGN_INPUTS = {"command": "assign", "name": "m", "version": "v1.0.0", "stage": "prod"}


def test_the_action_signs_with_the_key_from_a_secret(workspace: Workspace) -> None:
    w = workspace
    key = w.bot.read_text()
    result, temp = run_action(w, "github", **ASSIGN_INPUTS, signing_key=key)
    assert result.returncode == 0, result.stdout + result.stderr
    assert verifies(w.ws.path, "m#prod#1", w.signers)
    assert remote_tags(w.bare) == {"m@v1.0.0", "m#prod#1"}
    secret = key.splitlines()[1:-1]
    masks = [line for line in result.stdout.splitlines() if line.startswith("::add-mask::")]
    assert masks[-len(secret) :] == [f"::add-mask::{line}" for line in secret]
    rest = "\n".join(line for line in result.stdout.splitlines() if line not in masks)
    assert not any(line in rest + result.stderr for line in secret)
    assert list(temp.iterdir()) == []  # the key's file went with the run


def test_the_gitlab_job_reads_a_file_variable(workspace: Workspace, tmp_path: Path) -> None:
    """GitLab keeps a multi-line secret as a variable of type File: its value is a path."""
    w = workspace
    result, temp = run_action(w, "gitlab", **ASSIGN_INPUTS, signing_key=str(w.bot))
    assert result.returncode == 0, result.stdout + result.stderr
    assert verifies(w.ws.path, "m#prod#1", w.signers)
    assert "STAGETAG_OUT_TAG=m#prod#1" in (w.ws.path / "stagetag.env").read_text()
    assert list(temp.iterdir()) == []


def test_the_action_names_its_input_for_a_signed_stage(workspace: Workspace) -> None:
    result, _ = run_action(workspace, "github", **ASSIGN_INPUTS)
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert "takes only signed tags: give input 'signing_key'" in line
    assert "--sign-with" not in line


def test_a_malformed_key_in_the_action_is_refused_unshown(workspace: Workspace) -> None:
    w = workspace
    key = damaged(w.bot)
    result, temp = run_action(w, "github", **ASSIGN_INPUTS, signing_key=key)
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert "input 'signing_key' is not a readable OpenSSH private key" in line
    shown = [line for line in result.stdout.splitlines() if not line.startswith("::add-mask::")]
    assert not any(part in "\n".join(shown) + result.stderr for part in key.splitlines()[1:-1])
    assert w.ws.git("tag", "-l") == "m@v1.0.0" and list(temp.iterdir()) == []


def test_the_key_inside_another_input_is_refused(workspace: Workspace) -> None:
    w = workspace
    key = w.bot.read_text()
    message = f"see {key.splitlines()[2]}"
    result, _ = run_action(w, "github", **ASSIGN_INPUTS, signing_key=key, message=message)
    assert result.returncode == 1
    [line] = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert "input 'message' contains the signing key" in line
    assert w.ws.git("tag", "-l") == "m@v1.0.0"


def test_dry_run_signs_nothing_and_reports(workspace: Workspace) -> None:
    w = workspace
    result = cli(w, *ASSIGN_PROD, "--dry-run", "--json", "--sign-with", str(w.bot))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tags"] == ["m#prod#1"]
    assert w.ws.git("tag", "-l") == "m@v1.0.0"
