"""Write commands on real repositories: GTO's tag names, counters, messages and checks, and
stagetag's own additions (no-ops, rollback, dry runs, JSON, the promotion policy).

Fixture tags carry fixed 2024 dates, so a command's first tag never waits for a new second
(stagetag starts a new second after the artifact's newest tag, see publish.py); most tests
therefore make one write each, on a fresh repository.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import GitRepo, make_repo, run_stagetag

from stagetag.registry import load_registry
from stagetag.writes import (
    plan_assign,
    plan_deprecate,
    plan_deregister,
    plan_register,
    plan_rollback,
    plan_unassign,
)

# --------------------------------------------------------------------------------------------
# helpers


def stagetag(
    repo: GitRepo, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real console script, as a user or CI runs it."""
    return run_stagetag(*args, cwd=repo.path, env=env)


def write(repo: GitRepo, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a write command with --json; it must succeed quietly on stderr."""
    result = stagetag(repo, *args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    record: dict[str, Any] = json.loads(result.stdout)
    return record


def tags(repo: GitRepo) -> set[str]:
    return set(repo.git("tag", "-l").splitlines())


def tag_object(repo: GitRepo, name: str) -> str:
    """The raw annotated tag object, byte for byte (GitRepo.git would strip it)."""
    return subprocess.run(
        ["git", "cat-file", "tag", f"refs/tags/{name}"],
        cwd=repo.path,
        capture_output=True,
        check=True,
    ).stdout.decode()


def tag_message(repo: GitRepo, name: str) -> str:
    return tag_object(repo, name).split("\n\n", 1)[1]


def show(repo: GitRepo, *args: str) -> str:
    result = stagetag(repo, "show", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def dry_run_tags(repo: GitRepo, *args: str) -> list[str]:
    """The tag names `--dry-run` says it would create."""
    result = stagetag(repo, *args, "--dry-run")
    assert result.returncode == 0, result.stderr
    return re.findall(r"^Would create git tag '([^']+)'", result.stdout, re.MULTILINE)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 1, nothing on stdout, one `stagetag: error:` line naming `words`, no traceback."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("stagetag: error: ")
    for word in words:
        assert word in lines[0]


@dataclass
class Registered:
    """`m` with v0.0.1..v0.0.3 on c1..c3; prod went v0.0.1 -> v0.0.2 -> v0.0.3; HEAD is c4."""

    repo: GitRepo
    c1: str
    c2: str
    c3: str
    c4: str

    @property
    def path(self) -> Path:
        return self.repo.path


def _build_registered(repo: GitRepo) -> list[str]:
    shas = [repo.commit(f"c{i}", f"2024-01-0{i}T12:00:00+0000") for i in (1, 2, 3, 4)]
    for index in (1, 2, 3):
        repo.tag(
            f"m@v0.0.{index}",
            shas[index - 1],
            f"2024-02-0{index}T00:00:00+0000",
            f"Registering artifact m version v0.0.{index}",
        )
    for index in (1, 2, 3):
        repo.tag(
            f"m#prod#{index}",
            shas[index - 1],
            f"2024-02-0{index + 3}T00:00:00+0000",
            f"Assigning stage prod to artifact m version v0.0.{index}",
        )
    return shas


_TEMPLATE: dict[str, tuple[Path, list[str]]] = {}


@pytest.fixture
def registered(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Registered:
    """A copy of a repository built once per worker (inside a test, so with its pinned
    identity): copying is much cheaper than a dozen git processes per test."""
    if "registered" not in _TEMPLATE:
        template = make_repo(tmp_path_factory.mktemp("template") / "repo")
        _TEMPLATE["registered"] = (template.path, _build_registered(template))
    source, shas = _TEMPLATE["registered"]
    shutil.copytree(source, tmp_path / "repo", symlinks=True)
    return Registered(GitRepo(tmp_path / "repo"), *shas)


TAGGER_RE = re.compile(r"^tagger Alice Tester <alice@example\.com> \d+ \+0000$", re.MULTILINE)


# --------------------------------------------------------------------------------------------
# counters and simple vs counter forms


def test_counter_is_shared_by_every_action_and_counts_every_tag(registered: Registered) -> None:
    """max #N over all tags of the artifact (lightweight and hand-made ones too) + 1, whatever
    the action or stage; other artifacts' counters, even similar names, do not count."""
    repo = registered.repo
    repo.lightweight_tag("m#qa#11", registered.c1)
    repo.tag("m#dev!#7", registered.c1, "2024-03-01T00:00:00+0000", "hand-written")
    repo.tag("mm#prod#90", registered.c1, "2024-03-01T00:00:00+0000", "other artifact")
    repo.tag("dir=m#prod#91", registered.c1, "2024-03-01T00:00:00+0000", "dir:m is another")
    repo.lightweight_tag("m-x#prod#92", registered.c1)
    registry = load_registry(registered.path)
    assert plan_assign(registry, "m", "dev", version="v0.0.1").tags[0].name == "m#dev#12"
    assert plan_unassign(registry, "m", "v0.0.3", "prod").tags[0].name == "m#prod!#12"
    assert plan_register(registry, "m", registered.c4, simple=False).tags[0].name == ("m@v0.0.4#12")
    assert plan_deregister(registry, "m", "v0.0.1", simple=False).tags[0].name == "m@v0.0.1!#12"
    assert plan_deprecate(registry, "m", registered.c4, force=True).tags[0].name == (
        "m@deprecated#12"
    )
    assert plan_register(registry, "mm", registered.c4, simple=False).tags[0].name == (
        "mm@v0.0.1#91"
    )


def test_counter_continues_from_tags_stagetag_just_wrote(registered: Registered) -> None:
    """The counter advances across real writes and across actions (assign, then unassign)."""
    repo = registered.repo
    assert write(repo, "assign", "m", "--stage", "dev", "--version", "v0.0.1")["tags"] == [
        "m#dev#4"
    ]
    assert write(repo, "unassign", "m", "v0.0.1", "--stage", "dev")["tags"] == ["m#dev!#5"]
    assert write(repo, "register", "m", "--simple", "false")["tags"] == ["m@v0.0.4#6"]


def test_a_plan_of_two_numbered_tags_counts_up(registered: Registered) -> None:
    """rollback --to writes an unassignment and an assignment: #4 then #5."""
    registry = load_registry(registered.path)
    plan = plan_rollback(registry, "m", "prod", to_version="v0.0.1")
    assert [t.name for t in plan.tags] == ["m#prod!#4", "m#prod#5"]


SIMPLE_DEFAULTS = [
    # (argv, tags it would create) with GTO's `--simple auto` per command
    (["register", "m"], ["m@v0.0.4"]),
    (["register", "m", "--simple", "false"], ["m@v0.0.4#4"]),
    (["assign", "m", "--stage", "dev", "--version", "v0.0.1"], ["m#dev#4"]),
    (["assign", "m", "--stage", "dev", "--version", "v0.0.1", "--simple", "true"], ["m#dev"]),
    # auto-registration is always simple, whatever --simple says of the assignment
    (["assign", "m", "--stage", "dev"], ["m@v0.0.4", "m#dev#4"]),
    (["assign", "m", "--stage", "dev", "--simple", "false"], ["m@v0.0.4", "m#dev#4"]),
    (["assign", "m", "--stage", "dev", "--simple", "true"], ["m@v0.0.4", "m#dev"]),
    (["unassign", "m", "v0.0.3", "--stage", "prod"], ["m#prod!#4"]),
    (["unassign", "m", "v0.0.3", "--stage", "prod", "--simple", "true"], ["m#prod!"]),
    (["deregister", "m", "v0.0.1"], ["m@v0.0.1!"]),
    (["deregister", "m", "v0.0.1", "--simple", "false"], ["m@v0.0.1!#4"]),
    (["deprecate", "m", "v0.0.3", "prod"], ["m#prod!#4"]),
    (["deprecate", "m", "v0.0.1"], ["m@v0.0.1!"]),
    (["deprecate", "m"], ["m@deprecated"]),
    (["deprecate", "m", "--force"], ["m@deprecated#4"]),
    (["deprecate", "m", "--simple", "false"], ["m@deprecated#4"]),
]


@pytest.mark.parametrize(("argv", "expected"), SIMPLE_DEFAULTS, ids=" ".join)
def test_simple_defaults_per_command(
    registered: Registered, argv: list[str], expected: list[str]
) -> None:
    before = tags(registered.repo)
    assert dry_run_tags(registered.repo, *argv) == expected
    assert tags(registered.repo) == before


# --------------------------------------------------------------------------------------------
# tag objects: messages, tagger, target


MESSAGES = [
    (["register", "m"], "m@v0.0.4", "Registering artifact m version v0.0.4"),
    (
        ["register", "path/to:model"],
        "path/to=model@v0.0.1",
        "Registering artifact path/to:model version v0.0.1",
    ),
    (
        ["assign", "m", "--stage", "dev", "--version", "v0.0.2"],
        "m#dev#4",
        "Assigning stage dev to artifact m version v0.0.2",
    ),
    (
        ["unassign", "m", "v0.0.3", "--stage", "prod"],
        "m#prod!#4",
        "Unassigning stage 'prod' to artifact 'm' version 'v0.0.3'",
    ),
    (["deregister", "m", "v0.0.1"], "m@v0.0.1!", "Deregistering artifact m version v0.0.1"),
    (["deprecate", "m"], "m@deprecated", "Deprecating artifact 'm'"),
    (["register", "m", "-m", "custom msg"], "m@v0.0.4", "custom msg"),
    (["register", "m", "-m", ""], "m@v0.0.4", "Registering artifact m version v0.0.4"),
    (["register", "m", "-m", "  two\n\nlines \n"], "m@v0.0.4", "  two\n\nlines \n"),
]


@pytest.mark.parametrize(("argv", "tag", "message"), MESSAGES, ids=lambda v: repr(v)[:40])
def test_messages_are_gtos_and_stored_verbatim(
    registered: Registered, argv: list[str], tag: str, message: str
) -> None:
    """GTO's exact default messages; the object ends with the message, no newline added."""
    assert write(registered.repo, *argv)["tags"] == [tag]
    raw = tag_object(registered.repo, tag)
    assert raw.endswith(f"\n\n{message}")
    assert tag_message(registered.repo, tag) == message
    assert f"\ntag {tag}\n" in raw
    assert TAGGER_RE.search(raw), raw


def test_sr_assignment_message_names_the_commit(registered: Registered) -> None:
    record = write(registered.repo, "assign", "m", "--stage", "dev", "--sr")
    assert record["tags"] == ["m#dev#4"]
    assert record["version"] == registered.c4
    assert tag_message(registered.repo, "m#dev#4") == (
        f"Assigning stage dev to artifact m version {registered.c4}"
    )


def test_tagger_is_the_committer_identity(registered: Registered) -> None:
    """GIT_COMMITTER_NAME/EMAIL win over user.name/email; the offset is the local one."""
    repo = registered.repo
    repo.git("config", "user.name", "Carol Config")
    repo.git("config", "user.email", "carol@example.com")
    env = {
        "GIT_COMMITTER_NAME": "Bob Builder",
        "GIT_COMMITTER_EMAIL": "bob@example.com",
        "TZ": "Asia/Kolkata",
    }
    write(repo, "register", "m", "--version", "v1.0.0", env=env)
    assert re.search(
        r"^tagger Bob Builder <bob@example\.com> \d+ \+0530$",
        tag_object(repo, "m@v1.0.0"),
        re.MULTILINE,
    )
    env_without = {k: v for k, v in os.environ.items() if not k.startswith("GIT_COMMITTER_")}
    result = subprocess.run(
        ["stagetag", "deregister", "m", "v0.0.1"],
        cwd=repo.path,
        env=env_without,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(
        r"^tagger Carol Config <carol@example\.com> \d+ \+0000$",
        tag_object(repo, "m@v0.0.1!"),
        re.MULTILINE,
    )


def test_no_identity_is_one_line_and_creates_nothing(registered: Registered) -> None:
    repo = registered.repo
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_COMMITTER_", "GIT_AUTHOR_")) and k != "EMAIL"
    }
    env["GIT_CONFIG_COUNT"] = "1"
    env["GIT_CONFIG_KEY_0"] = "user.useConfigOnly"
    env["GIT_CONFIG_VALUE_0"] = "true"
    before = tags(repo)
    result = subprocess.run(
        ["stagetag", "register", "m"],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert_one_line_error(result, "identity")
    assert tags(repo) == before


def test_annotated_ref_is_peeled_to_its_commit(registered: Registered) -> None:
    """REF may be an annotated tag, even a tag of a tag: the new tag targets the commit."""
    repo = registered.repo
    repo.git("tag", "-a", "-m", "release", "release-4", registered.c4)
    repo.git("tag", "-a", "-m", "again", "release-4b", "release-4")
    record = write(repo, "assign", "m", "release-4b", "--stage", "dev")
    assert record["tags"] == ["m@v0.0.4", "m#dev#4"]
    assert record["commit"] == registered.c4
    for name in record["tags"]:
        assert tag_object(repo, name).startswith(f"object {registered.c4}\ntype commit\n")


# --------------------------------------------------------------------------------------------
# register and assign semantics


def test_auto_registration_creates_the_registration_first(registered: Registered) -> None:
    record = write(registered.repo, "assign", "m", "--stage", "staging")
    assert record == {
        "tags": ["m@v0.0.4", "m#staging#4"],
        "created": True,
        "event": "assignment",
        "name": "m",
        "version": "v0.0.4",
        "stage": "staging",
        "commit": registered.c4,
        "pushed": False,
        "reason": None,
        "recovered": [],
        "dropped": [],
        "ignored": [],
    }
    assert tag_message(registered.repo, "m@v0.0.4") == "Registering artifact m version v0.0.4"
    assert tag_message(registered.repo, "m#staging#4") == (
        "Assigning stage staging to artifact m version v0.0.4"
    )
    assert show(registered.repo, "m#staging", "--version") == "v0.0.4\n"


def test_version_without_ref_assigns_an_existing_version(registered: Registered) -> None:
    """HEAD (c4) is not involved: --version alone names the version and so its commit."""
    record = write(registered.repo, "assign", "m", "--stage", "dev", "--version", "v0.0.1")
    assert record["tags"] == ["m#dev#4"]
    assert record["commit"] == registered.c1
    assert tag_object(registered.repo, "m#dev#4").startswith(f"object {registered.c1}\n")


def test_version_with_ref_names_the_version_to_register(registered: Registered) -> None:
    record = write(registered.repo, "assign", "m", "HEAD", "--stage", "dev", "--version", "v1.0.0")
    assert record["tags"] == ["m@v1.0.0", "m#dev#4"]
    assert record["commit"] == registered.c4


def test_version_with_ref_of_the_same_version_only_assigns(registered: Registered) -> None:
    record = write(
        registered.repo, "assign", "m", registered.c1, "--stage", "dev", "--version", "v0.0.1"
    )
    assert record["tags"] == ["m#dev#4"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["register", "m"], "m@v0.0.4"),
        (["register", "m", "--bump-patch"], "m@v0.0.4"),
        (["register", "m", "--bump-minor"], "m@v0.1.0"),
        (["register", "m", "--bump-major"], "m@v1.0.0"),
        (["register", "m", "--version", "v2.0.0-rc.1+b.7"], "m@v2.0.0-rc.1+b.7"),
        (["register", "new"], "new@v0.0.1"),
    ],
)
def test_register_bumps_the_latest_version(
    registered: Registered, argv: list[str], expected: str
) -> None:
    assert dry_run_tags(registered.repo, *argv) == [expected]


def test_bumps_skip_deregistered_versions_and_drop_prereleases(repo: GitRepo) -> None:
    c1, c2, _ = (repo.commit(f"c{i}", f"2024-01-0{i}T12:00:00+0000") for i in (1, 2, 3))
    repo.tag("m@v0.0.1", c1, "2024-02-01T00:00:00+0000")
    repo.tag("m@v0.2.0", c2, "2024-02-02T00:00:00+0000")
    repo.tag("m@v0.2.0!", c2, "2024-02-03T00:00:00+0000")
    assert dry_run_tags(repo, "register", "m") == ["m@v0.0.2"]
    repo.tag("p@v1.2.3-rc.1+b.7", c1, "2024-02-04T00:00:00+0000")
    assert dry_run_tags(repo, "register", "p") == ["p@v1.2.4"]
    assert dry_run_tags(repo, "register", "p", "--bump-minor") == ["p@v1.3.0"]


def test_registering_a_registered_commit_again_is_a_no_op(registered: Registered) -> None:
    before = tags(registered.repo)
    record = write(registered.repo, "register", "m", registered.c1)
    assert record["created"] is False
    assert record["tags"] == []
    assert "v0.0.1" in record["reason"]
    assert tags(registered.repo) == before


def test_assigning_a_stage_already_held_is_a_no_op_unless_forced(registered: Registered) -> None:
    repo = registered.repo
    before = tags(repo)
    result = stagetag(repo, "assign", "m", "--stage", "prod", "--version", "v0.0.3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Nothing to do:")
    record = write(repo, "assign", "m", "--stage", "prod", "--version", "v0.0.3")
    assert record["created"] is False
    assert record["tags"] == []
    assert tags(repo) == before
    forced = write(repo, "assign", "m", "--stage", "prod", "--version", "v0.0.3", "--force")
    assert forced["created"] is True
    assert forced["tags"] == ["m#prod#4"]


def test_assigning_a_former_holder_again_is_a_change(registered: Registered) -> None:
    """v0.0.1 held prod before, but it does not now: assigning it again needs no --force."""
    record = write(registered.repo, "assign", "m", "--stage", "prod", "--version", "v0.0.1")
    assert record["tags"] == ["m#prod#4"]
    assert show(registered.repo, "m#prod", "--version") == "v0.0.1\n"


def test_stages_outside_dot_gto_are_refused(registered: Registered) -> None:
    repo = registered.repo
    (registered.path / ".gto").write_text("stages: [dev, prod]\n")
    before = tags(repo)
    result = stagetag(repo, "assign", "m", "--stage", "staging", "--version", "v0.0.1")
    assert_one_line_error(result, "'staging'", ".gto", "dev, prod")
    result = stagetag(repo, "unassign", "m", "v0.0.3", "--stage", "staging")
    assert_one_line_error(result, "'staging'", ".gto")
    assert tags(repo) == before
    assert dry_run_tags(repo, "assign", "m", "--stage", "dev", "--version", "v0.0.1") == ["m#dev#4"]
    assert dry_run_tags(repo, "register", "m") == ["m@v0.0.4"]


# --------------------------------------------------------------------------------------------
# unassign, rollback, deprecate


def test_unassign_gives_the_stage_back_to_the_previous_holder(registered: Registered) -> None:
    record = write(registered.repo, "unassign", "m", "v0.0.3", "--stage", "prod")
    assert record["tags"] == ["m#prod!#4"]
    assert record["event"] == "unassignment"
    assert record["version"] == "v0.0.3"
    assert show(registered.repo, "m#prod", "--version") == "v0.0.2\n"


def test_unassigning_an_older_holder_keeps_the_current_one(registered: Registered) -> None:
    """As in GTO, v0.0.1's own prod assignment is still active (its newest prod event), so it
    can be unassigned, which the current holder v0.0.3 does not notice; a second time there
    is nothing left to take."""
    repo = registered.repo
    assert write(repo, "unassign", "m", "v0.0.1", "--stage", "prod")["tags"] == ["m#prod!#4"]
    assert show(repo, "m#prod", "--version") == "v0.0.3\n"
    again = write(repo, "unassign", "m", "v0.0.1", "--stage", "prod")
    assert again["created"] is False
    assert again["tags"] == []


def test_rollback_gives_the_stage_to_the_previous_holder(registered: Registered) -> None:
    repo = registered.repo
    record = write(repo, "rollback", "m", "--stage", "prod")
    assert record["tags"] == ["m#prod!#4"]
    assert show(repo, "m#prod", "--version") == "v0.0.2\n"
    # and again: the unassigned v0.0.3 does not come back
    record = write(repo, "rollback", "m", "--stage", "prod")
    assert record["tags"] == ["m#prod!#5"]
    assert record["version"] == "v0.0.2"
    assert show(repo, "m#prod", "--version") == "v0.0.1\n"


def test_rollback_to_a_named_version(registered: Registered) -> None:
    record = write(registered.repo, "rollback", "m", "--stage", "prod", "--to", "v0.0.1")
    assert record["tags"] == ["m#prod!#4", "m#prod#5"]
    assert record["version"] == "v0.0.1"
    assert record["commit"] == registered.c1
    assert show(registered.repo, "m#prod", "--version") == "v0.0.1\n"


def test_rollback_to_the_current_holder_is_a_no_op(registered: Registered) -> None:
    record = write(registered.repo, "rollback", "m", "--stage", "prod", "--to", "v0.0.3")
    assert record["created"] is False


def test_deprecate_hides_the_artifact_and_a_second_time_is_a_no_op(
    registered: Registered,
) -> None:
    repo = registered.repo
    record = write(repo, "deprecate", "m")
    assert record["tags"] == ["m@deprecated"]
    assert record["event"] == "deprecation"
    assert record["version"] is None
    # GTO puts it on the commit of the artifact's newest event: m#prod#3, on c3
    assert tag_object(repo, "m@deprecated").startswith(f"object {registered.c3}\n")
    assert json.loads(show(repo, "--json")) == {}
    assert write(repo, "deprecate", "m")["created"] is False
    assert write(repo, "deprecate", "m", "--force")["tags"] == ["m@deprecated#4"]


# --------------------------------------------------------------------------------------------
# dry runs and JSON


def test_dry_run_prints_the_tags_and_creates_nothing(registered: Registered) -> None:
    before = tags(registered.repo)
    result = stagetag(registered.repo, "assign", "m", "--stage", "qa", "--dry-run")
    assert result.returncode == 0, result.stderr
    short = registered.c4[:7]
    assert result.stdout == (
        f"Would create git tag 'm@v0.0.4' on {short}: Registering artifact m version v0.0.4\n"
        f"Would create git tag 'm#qa#4' on {short}: "
        "Assigning stage qa to artifact m version v0.0.4\n"
    )
    record = write(registered.repo, "register", "m", "--dry-run")
    assert record["created"] is False
    assert record["tags"] == ["m@v0.0.4"]  # what it would create
    assert record["version"] == "v0.0.4"
    assert tags(registered.repo) == before


def test_human_output_names_each_tag_and_the_push_command(registered: Registered) -> None:
    result = stagetag(registered.repo, "assign", "m", "--stage", "qa")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Created git tag 'm@v0.0.4' that registers version\n"
        "Created git tag 'm#qa#4' that assigns stage to version 'v0.0.4'\n"
        "To push the changes upstream, run:\n"
        "    git push origin m@v0.0.4 'm#qa#4'\n"
    )


# --------------------------------------------------------------------------------------------
# errors


ERRORS = [
    (["assign", "m", "--stage", "prod", "--version", "v9.9.9"], ["'v9.9.9'", "not registered"]),
    (["assign", "m", "--stage", "prod", "--version", "1.0.0"], ["'1.0.0'"]),
    (["assign", "m", "HEAD", "--stage", "prod", "--version", "1.0.0"], ["'1.0.0'"]),
    (["assign", "m", "--stage", "Bad!", "--version", "v0.0.1"], ["'Bad!'"]),
    (["assign", "m", "HEAD", "--stage", "x", "--version", "v1.0.0", "--sr"], ["--sr"]),
    (["assign", "m", "HEAD~3", "--stage", "x", "--version", "v9.0.0"], ["'v0.0.1'"]),
    (["assign", "m", "nosuchref", "--stage", "x"], ["'nosuchref'"]),
    (["register", "_m"], ["'_m'"]),
    (["register", "a:b:c"], ["'a:b:c'"]),
    (["register", "m", "--version", "v0.0.1"], ["'v0.0.1'", "already registered"]),
    (["register", "m", "--version", "V1.0.0"], ["'V1.0.0'"]),
    (["register", "m", "HEAD~3", "--version", "v5.0.0", "--force"], ["v0.0.1"]),
    (["register", "m", "--bump-minor", "--bump-patch"], ["--bump"]),
    (["register", "m", "--version", "v1.0.0", "--bump-minor"], ["--version"]),
    (["register", "new", "--bump-minor"], ["'new'"]),
    (["unassign", "m", "v0.0.9", "--stage", "prod"], ["'v0.0.9'"]),
    (["unassign", "m", "v0.0.1", "--stage", "dev"], ["'dev'"]),
    (["unassign", "nothere", "v0.0.1", "--stage", "prod"], ["'nothere'"]),
    (["deregister", "m", "v0.0.9"], ["'v0.0.9'"]),
    (["deprecate", "m", "v0.0.9"], ["'v0.0.9'"]),
    (["deprecate", "nothere"], ["'nothere'"]),
    (["deprecate", "m", "--force", "--simple", "true"], ["--force"]),
    (["rollback", "m", "--stage", "dev"], ["'dev'"]),
    (["rollback", "m", "--stage", "prod", "--to", "v0.0.9"], ["'v0.0.9'"]),
]


@pytest.mark.parametrize(("argv", "words"), ERRORS, ids=lambda v: " ".join(v)[:50])
def test_errors_are_one_line_and_create_nothing(
    registered: Registered, argv: list[str], words: list[str]
) -> None:
    before = tags(registered.repo)
    assert_one_line_error(stagetag(registered.repo, *argv), *words)
    assert tags(registered.repo) == before


def test_rollback_of_the_only_holder_needs_to(repo: GitRepo) -> None:
    sha = repo.commit("c1")
    repo.tag("m@v0.0.1", sha, "2024-02-01T00:00:00+0000")
    repo.tag("m#prod#1", sha, "2024-02-02T00:00:00+0000")
    assert_one_line_error(stagetag(repo, "rollback", "m", "--stage", "prod"), "--to")


def test_an_existing_simple_tag_is_a_one_line_error(registered: Registered) -> None:
    registered.repo.tag("m#dev", registered.c1, "2024-03-01T00:00:00+0000", "simple")
    result = stagetag(
        registered.repo, "assign", "m", "--stage", "dev", "--version", "v0.0.2", "--simple", "true"
    )
    assert_one_line_error(result, "'m#dev'", "already exists")


# --------------------------------------------------------------------------------------------
# promotion policy

POLICY_YAML = """\
promotion:
  order: [dev, staging, prod]
  protected:
    prod:
      actors: [alice]
      branches: [main]
"""
_ACTOR_VARIABLES = ("STAGETAG_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN")


@pytest.fixture
def staged(registered: Registered) -> Registered:
    """The policy above in stagetag.yaml; v0.0.1 went through dev and staging, v0.0.2 only
    through dev; prod is held by v0.0.3."""
    repo = registered.repo
    repo.tag("m#dev#4", registered.c1, "2024-03-01T00:00:00+0000")
    repo.tag("m#staging#5", registered.c1, "2024-03-02T00:00:00+0000")
    repo.tag("m#dev#6", registered.c2, "2024-03-03T00:00:00+0000")
    (registered.path / "stagetag.yaml").write_text(POLICY_YAML)
    return registered


def as_actor(
    repo: GitRepo, *args: str, actor: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run with no actor in the environment (CI sets GITHUB_ACTOR) except `actor`, if given."""
    env = {k: v for k, v in os.environ.items() if k not in _ACTOR_VARIABLES}
    if actor is not None:
        env["GITHUB_ACTOR"] = actor
    return subprocess.run(
        ["stagetag", *args], cwd=repo.path, capture_output=True, text=True, env=env, check=False
    )


def test_policy_refuses_prod_before_staging_and_force_lifts_the_order(staged: Registered) -> None:
    repo = staged.repo
    before = tags(repo)
    prod = ["assign", "m", "--stage", "prod", "--json"]
    refused = as_actor(repo, *prod, "--version", "v0.0.2", "--actor", "alice")
    assert_one_line_error(refused, "'staging'", "--force")
    # auto-registration of a new commit straight into prod: refused, and nothing is left
    assert_one_line_error(as_actor(repo, *prod, "--actor", "alice"), "'staging'")
    assert tags(repo) == before
    allowed = as_actor(repo, *prod, "--version", "v0.0.1", "--actor", "alice")
    assert allowed.returncode == 0, allowed.stderr
    assert json.loads(allowed.stdout)["tags"] == ["m#prod#7"]
    forced = as_actor(repo, *prod, "--version", "v0.0.2", "--actor", "alice", "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["tags"] == ["m#prod#8"]


def test_policy_actor_limits_hold_even_with_force(staged: Registered) -> None:
    repo = staged.repo
    before = tags(repo)
    argv = ["assign", "m", "--stage", "prod", "--version", "v0.0.1", "--force"]
    assert_one_line_error(as_actor(repo, *argv, "--actor", "bob"), "alice", "bob")
    assert_one_line_error(as_actor(repo, *argv, actor="bob"), "bob")
    assert_one_line_error(as_actor(repo, *argv, "--actor", "bob", actor="alice"), "bob")
    assert_one_line_error(as_actor(repo, *argv), "unknown")
    assert_one_line_error(as_actor(repo, "unassign", "m", "v0.0.3", "--stage", "prod"), "alice")
    assert_one_line_error(as_actor(repo, "rollback", "m", "--stage", "prod"), "alice")
    assert tags(repo) == before
    allowed = as_actor(repo, *argv, actor="alice")
    assert allowed.returncode == 0, allowed.stderr


def test_taking_a_protected_stage_away_is_guarded_like_giving_it(staged: Registered) -> None:
    """Deregistering prod's holder moves prod to the previous one, deprecating empties it:
    both change what prod runs, so both need a protected stage's actor."""
    repo = staged.repo
    before = tags(repo)
    assert_one_line_error(as_actor(repo, "deregister", "m", "v0.0.3", actor="bob"), "alice")
    assert_one_line_error(as_actor(repo, "deprecate", "m", actor="bob"), "'prod'", "alice")
    assert tags(repo) == before
    unheld = as_actor(repo, "deregister", "m", "v0.0.2", actor="bob")  # holds no prod
    assert unheld.returncode == 0, unheld.stderr
    allowed = as_actor(repo, "deregister", "m", "v0.0.3", actor="alice")
    assert allowed.returncode == 0, allowed.stderr


def test_a_stage_on_a_commit_with_two_versions_is_refused(registered: Registered) -> None:
    """Every read skips such a stage tag as ambiguous: writing one would count for no one."""
    repo = registered.repo
    repo.tag("m@v9.0.0", registered.c1, "2024-04-01T00:00:00+0000")  # c1 holds v0.0.1 too
    before = tags(repo)
    for argv in (
        ["assign", "m", "--stage", "qa", "--version", "v0.0.1"],
        ["assign", "m", "--stage", "qa", "--version", "v9.0.0"],
        ["unassign", "m", "v0.0.1", "--stage", "dev"],
    ):
        assert_one_line_error(stagetag(repo, *argv), "share commit", "deregister all but one")
    assert tags(repo) == before


def test_policy_refuses_a_commit_not_on_the_protected_branch(staged: Registered) -> None:
    repo = staged.repo
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("c5", "2024-01-05T12:00:00+0000")
    before = tags(repo)
    result = as_actor(repo, "assign", "m", "--stage", "prod", "--force", actor="alice")
    assert_one_line_error(result, "not on main")
    assert tags(repo) == before
    ok = as_actor(repo, "assign", "m", "--stage", "dev", actor="bob")
    assert ok.returncode == 0, ok.stderr  # unprotected stages take any branch and actor


def test_unknown_key_in_stagetag_yaml_names_file_line_and_key(registered: Registered) -> None:
    path = registered.path / "stagetag.yaml"
    path.write_text("promotion:\n  order: [dev, prod]\n  protect:\n    prod: {actors: [a]}\n")
    result = stagetag(registered.repo, "assign", "m", "--stage", "dev", "--version", "v0.0.1")
    assert_one_line_error(result, f"{path}:3", "protect")


def test_broken_stagetag_yaml_is_one_line(registered: Registered) -> None:
    path = registered.path / "stagetag.yaml"
    path.write_text("promotion: [unclosed\n")
    result = stagetag(registered.repo, "register", "m")
    assert_one_line_error(result, str(path))


def test_a_broken_gto_file_stops_writes(repo: GitRepo) -> None:
    """Reads warn and go on without a broken `.gto`; a write would then let any stage through,
    so it refuses, naming the file and the key."""
    sha = repo.commit("c1")
    repo.tag("m@v0.0.1", sha, "2024-02-01T00:00:00+0000")
    (repo.path / ".gto").write_text("stages: [dev]\nstagez: [prod]\n")
    result = subprocess.run(
        ["stagetag", "assign", "m", "--stage", "prod", "--version", "v0.0.1"],
        cwd=repo.path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert ".gto" in result.stderr and "'stagez'" in result.stderr
    assert repo.git("tag", "-l") == "m@v0.0.1"
