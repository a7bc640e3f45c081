"""Signed stage tags at deploy time: a stage with `signed: true` deploys only for tags whose
SSH signature verifies against the allowed-signers file on the default branch. A tag pushed by
hand unsigned, GPG-signed, signed by a key that file does not list, changed after it was
signed, signed by a key that only the tag's own commit lists, or whose tag object (the one GTO
names the event after) sits under another ref's name, plans no job (exit 5); other stages
deploy unsigned tags as before."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import GitRepo, clean_environ, ssh_key
from dispatch_helpers import make_origin, stagetag, write

CONFIG = """\
deploy:
  stages:
    dev:
      deploy: ./deploy.sh {{ name }} {{ version }} dev
    prod:
      deploy: ./deploy.sh {{ name }} {{ version }} prod
      undeploy: ./undeploy.sh {{ name }} prod
promotion:
  signers: .stagetag/allowed_signers
  protected:
    prod:
      signed: true
"""
SIGNERS = ".stagetag/allowed_signers"


@dataclass(frozen=True)
class Setup:
    bare: Path
    work: GitRepo
    commit: str  # where m@v1.0.0 is, on main
    bot: Path  # the key the allowed signers list
    eve: Path  # a key they do not
    env: dict[str, str]  # GitHub Actions, default branch main


def setup(tmp_path: Path) -> Setup:
    bot, bot_public = ssh_key(tmp_path / "keys", "bot")
    eve, _ = ssh_key(tmp_path / "keys", "eve")
    bare, work = make_origin(tmp_path)
    write(work.path / "stagetag.yaml", CONFIG)
    write(work.path / SIGNERS, f"bot@example.com {bot_public}\n")
    commit = work.commit("v1")
    work.tag("m@v1.0.0", commit, "2024-02-01T00:00:00+0000")
    work.git("push", "-q", "origin", "main", "--tags")
    event = write(tmp_path / "event.json", json.dumps({"repository": {"default_branch": "main"}}))
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": str(event), "GITHUB_ACTOR": "eve"}
    return Setup(bare, work, commit, bot, eve, env)


def push(work: GitRepo, name: str) -> str:
    work.git("push", "-q", "origin", f"refs/tags/{name}")
    return f"refs/tags/{name}"


def refused(result: subprocess.CompletedProcess[str], *why: str) -> None:
    """Exit 5, no job, one notice that says why."""
    assert result.returncode == 5, result.stdout + result.stderr
    assert json.loads(result.stdout)["jobs"] == []
    [notice] = [line for line in result.stderr.splitlines() if ": not deployed, " in line]
    assert "takes only tags signed by a key in .stagetag/allowed_signers" in notice
    assert all(word in notice for word in why), notice
    assert result.stderr.splitlines()[-1].startswith("stagetag: error: 1 tag(s) broke")


def planned(result: subprocess.CompletedProcess[str]) -> str:
    """Exit 0 and one job: its command."""
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)["jobs"]
    return str(job["command"])


def test_a_tag_stagetag_signed_with_an_allowed_key_deploys(tmp_path: Path) -> None:
    s = setup(tmp_path)
    assign = ("assign", "m", "--version", "v1.0.0", "--stage", "prod", "--push")
    stagetag(*assign, "--sign-with", str(s.bot), cwd=s.work.path, env={}).check_returncode()
    result = stagetag("dispatch", "refs/tags/m#prod#1", cwd=s.work.path, env=s.env)
    assert planned(result) == "./deploy.sh m v1.0.0 prod"


def test_an_unsigned_tag_pushed_by_hand_plans_nothing(tmp_path: Path) -> None:
    s = setup(tmp_path)
    s.work.tag("m#prod#9", s.commit, "2024-02-01T01:00:00+0000")
    result = stagetag("dispatch", push(s.work, "m#prod#9"), cwd=s.work.path, env=s.env)
    refused(result, "'m#prod#9' is not signed")


def test_a_tag_signed_by_an_unlisted_key_plans_nothing(tmp_path: Path) -> None:
    s = setup(tmp_path)
    s.work.ssh_signed_tag("m#prod#9", s.commit, "2024-02-01T01:00:00+0000", "prod", s.eve)
    result = stagetag("dispatch", push(s.work, "m#prod#9"), cwd=s.work.path, env=s.env)
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(s.eve)], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    refused(result, f"signed by key {fingerprint}, which is not there")


def test_a_gpg_signed_tag_plans_nothing(tmp_path: Path) -> None:
    """The allowed signers are SSH keys: a GPG signature (which the runner's keyring might
    trust) does not count."""
    s = setup(tmp_path)
    s.work.signed_tag("m#prod#9", s.commit, "prod")
    result = stagetag("dispatch", push(s.work, "m#prod#9"), cwd=s.work.path, env=s.env)
    refused(result, "'m#prod#9' has a GPG or X.509 signature")


def test_a_signed_tag_changed_after_signing_plans_nothing(tmp_path: Path) -> None:
    """The allowed key's signature, copied into a tag object with another message."""
    s = setup(tmp_path)
    s.work.ssh_signed_tag("m#prod#9", s.commit, "2024-02-01T01:00:00+0000", "prod", s.bot)
    raw = s.work.git("cat-file", "tag", "m#prod#9") + "\n"
    forged = raw.replace("\n\nprod\n", "\n\nprod, trust me\n")
    assert forged != raw
    sha = subprocess.run(
        ["git", "mktag"], input=forged, cwd=s.work.path, capture_output=True, text=True, check=True
    ).stdout.strip()
    s.work.git("update-ref", "refs/tags/m#prod#9", sha)
    result = stagetag("dispatch", push(s.work, "m#prod#9"), cwd=s.work.path, env=s.env)
    refused(result, "does not verify", "changed after it was signed")


def test_signers_added_only_on_the_tags_own_commit_do_not_count(tmp_path: Path) -> None:
    """Eve lists her own key on a side branch and tags that commit: the default branch's
    allowed signers decide, in a CI clone checked out at the tag."""
    s = setup(tmp_path)
    s.work.git("checkout", "-q", "-b", "side")
    key, eve_public = ssh_key(tmp_path / "keys", "eve2")
    signers = s.work.path / SIGNERS
    signers.write_text(signers.read_text() + f"eve@example.com {eve_public}\n")
    side = s.work.commit("eve's signers")
    s.work.tag("m@v2.0.0", side, "2024-02-01T01:00:00+0000")
    s.work.ssh_signed_tag("m#prod#9", side, "2024-02-01T01:01:00+0000", "prod", key)
    s.work.git("push", "-q", "origin", "side", "--tags")
    ci = tmp_path / "ci"
    subprocess.run(["git", "clone", "-q", "-b", "m#prod#9", str(s.bare), str(ci)], check=True)
    assert eve_public in (ci / SIGNERS).read_text()  # the checkout has her key
    env = {**s.env, "GITHUB_REF": "refs/tags/m#prod#9"}
    refused(stagetag("dispatch", cwd=ci, env=env), "which is not there")
    # outside CI the work tree is the config, as for the deploy commands
    assert stagetag("dispatch", "refs/tags/m#prod#9", cwd=ci, env={}).returncode == 0


def mktag(work: GitRepo, ref: str, target: str, name: str, epoch: int) -> str:
    """An unsigned tag object named `name` (its `tag` header) and dated `epoch`, put under
    `ref` whatever that says, as anyone who may push tags could: its object id."""
    raw = (
        f"object {target}\ntype commit\ntag {name}\n"
        f"tagger Eve <eve@example.com> {epoch} +0000\n\nprod\n"
    )
    sha = subprocess.run(
        ["git", "mktag"], input=raw, cwd=work.path, capture_output=True, text=True, check=True
    ).stdout.strip()
    work.git("update-ref", ref, sha)
    return sha


def test_an_unsigned_tag_object_named_after_a_pushed_ref_plans_nothing(tmp_path: Path) -> None:
    """The reviewer's repro: refs/tags/m#prod#7 holds the signed object of m#prod#1, and
    refs/tags/m#dev#8 an unsigned object named m#prod#7 on an unapproved commit. GTO names
    the event m#prod#7 after the latter (prod is v6.6.6's); the signature checked must be
    that object's, not the one under refs/tags/m#prod#7."""
    s = setup(tmp_path)
    assign = ("assign", "m", "--version", "v1.0.0", "--stage", "prod", "--push")
    stagetag(*assign, "--sign-with", str(s.bot), cwd=s.work.path, env={}).check_returncode()
    s.work.git("checkout", "-q", "-b", "side")
    unapproved = s.work.commit("v6")
    s.work.tag("m@v6.6.6", unapproved, "2024-02-01T01:00:00+0000")
    s.work.git("update-ref", "refs/tags/m#prod#7", s.work.git("rev-parse", "m#prod#1").strip())
    signed_at = s.work.git("for-each-ref", "--format=%(taggerdate:unix)", "refs/tags/m#prod#1")
    mktag(s.work, "refs/tags/m#dev#8", unapproved, "m#prod#7", int(signed_at) + 60)
    s.work.git("push", "-q", "origin", "side", "--tags")
    shown = stagetag("show", "--json", cwd=s.work.path, env={})
    assert json.loads(shown.stdout)["m"]["stage"] == {"prod": "v6.6.6"}  # as GTO reads it
    result = stagetag("dispatch", "refs/tags/m#prod#7", cwd=s.work.path, env=s.env)
    refused(
        result,
        "'m#prod#7' cannot be vouched for",
        "its tag object is named 'm#prod#7' but sits under refs/tags/m#dev#8",
    )


@pytest.mark.parametrize("under_its_name", ["the same object", "a lightweight tag"])
def test_a_signed_tag_object_under_another_ref_name_plans_nothing(
    tmp_path: Path, under_its_name: str
) -> None:
    """The allowed key signed an object named m#prod#9, and that object also sits under
    refs/tags/m#dev#9 (a copy, as `git tag m#dev#9 m#prod#9` makes). Its signature verifies,
    but not the ref's name, which picks GTO's pass and replays the signed event: refused,
    whether refs/tags/m#prod#9 holds the same object or only names the commit."""
    s = setup(tmp_path)
    s.work.ssh_signed_tag("m#prod#9", s.commit, "2024-02-01T01:00:00+0000", "prod", s.bot)
    s.work.git("update-ref", "refs/tags/m#dev#9", s.work.git("rev-parse", "m#prod#9").strip())
    if under_its_name == "a lightweight tag":
        s.work.git("update-ref", "refs/tags/m#prod#9", s.commit)
    s.work.git("push", "-q", "origin", "--tags")
    result = stagetag("dispatch", "refs/tags/m#prod#9", cwd=s.work.path, env=s.env)
    refused(result, "its tag object is named 'm#prod#9' but sits under refs/tags/m#dev#9")


def test_an_unsigned_tag_of_a_signed_tag_plans_nothing(tmp_path: Path) -> None:
    """GTO reads the object the ref points at, not the one it tags: an unsigned tag object
    wrapping the allowed key's signed one is unsigned."""
    s = setup(tmp_path)
    s.work.ssh_signed_tag("m#prod#9", s.commit, "2024-02-01T01:00:00+0000", "prod", s.bot)
    inner = s.work.git("rev-parse", "m#prod#9").strip()
    s.work.git("tag", "-d", "m#prod#9")
    s.work.tag("m#prod#9", inner, "2024-02-01T01:01:00+0000")
    result = stagetag("dispatch", push(s.work, "m#prod#9"), cwd=s.work.path, env=s.env)
    refused(result, "'m#prod#9' is not signed")


def test_an_unsigned_tag_for_a_stage_without_the_rule_deploys(tmp_path: Path) -> None:
    s = setup(tmp_path)
    s.work.tag("m#dev#9", s.commit, "2024-02-01T01:00:00+0000")
    result = stagetag("dispatch", push(s.work, "m#dev#9"), cwd=s.work.path, env=s.env)
    assert planned(result) == "./deploy.sh m v1.0.0 dev"


def test_taking_a_signed_stage_away_needs_a_signature_too(tmp_path: Path) -> None:
    """Deregistering prod's holder undeploys prod: an unsigned deregistration plans nothing,
    one signed with the allowed key undeploys."""
    s = setup(tmp_path)
    s.work.ssh_signed_tag("m#prod#9", s.commit, "2024-02-01T01:00:00+0000", "prod", s.bot)
    push(s.work, "m#prod#9")
    s.work.tag("m@v1.0.0!", s.commit, "2024-02-01T01:01:00+0000")
    result = stagetag("dispatch", push(s.work, "m@v1.0.0!"), cwd=s.work.path, env=s.env)
    refused(result, "'m@v1.0.0!' is not signed")
    s.work.git("tag", "-d", "m@v1.0.0!")
    s.work.ssh_signed_tag("m@v1.0.0!", s.commit, "2024-02-01T01:01:00+0000", "dereg", s.bot)
    s.work.git("push", "-q", "-f", "origin", "refs/tags/m@v1.0.0!")
    result = stagetag("dispatch", "refs/tags/m@v1.0.0!", cwd=s.work.path, env=s.env)
    assert planned(result) == "./undeploy.sh m prod"


def test_the_action_refuses_with_a_notice_and_an_annotation(tmp_path: Path) -> None:
    s = setup(tmp_path)
    s.work.tag("m#prod#9", s.commit, "2024-02-01T01:00:00+0000")
    ref = push(s.work, "m#prod#9")
    outputs = write(tmp_path / "github_output", "")
    env = {
        **clean_environ(),
        **s.env,
        "GITHUB_WORKSPACE": str(s.work.path),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_REF": ref,
        "INPUT_COMMAND": "dispatch",
    }
    result = subprocess.run(
        ["stagetag", "action"], cwd=s.work.path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 5, result.stdout + result.stderr
    assert "::notice title=stagetag::refs/tags/m#prod#9: not deployed, stage 'prod'" in (
        result.stdout
    )
    assert "has_jobs<<" in outputs.read_text() and "\nfalse\n" in outputs.read_text()


@pytest.mark.parametrize(
    ("promotion", "words"),
    [
        (
            "  protected:\n    prod:\n      signed: true\n",
            ["stagetag.yaml:4", "needs promotion.signers"],
        ),
        ("  signers: ../outside\n", ["stagetag.yaml:2", "signers", "a file in the repository"]),
        ("  signers: nowhere\n", ["stagetag.yaml:2", "file 'nowhere' does not exist"]),
    ],
)
def test_a_bad_signers_setting_on_the_default_branch_deploys_nothing(
    tmp_path: Path, promotion: str, words: list[str]
) -> None:
    s = setup(tmp_path)
    write(s.work.path / "stagetag.yaml", "promotion:\n" + promotion)
    s.work.commit("broken policy")
    s.work.git("push", "-q", "origin", "main")
    s.work.tag("m#prod#9", s.commit, "2024-02-01T01:00:00+0000")
    result = stagetag("dispatch", push(s.work, "m#prod#9"), cwd=s.work.path, env=s.env)
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert all(word in line for word in words), line
    assert os.sep + "trusted" + os.sep in line  # the default branch's copy, not the work tree
