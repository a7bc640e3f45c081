"""`show --at` and `history NAME --stage` as a user runs them: the forms `--at` takes, what an
instant means for tags of the same second, the stage timeline's table, JSON and Markdown, and
one-line errors. (tests/differential/test_show_at.py compares both with gto.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import GitRepo, run_stagetag


def stagetag(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_stagetag(*args, cwd=cwd)


def prod_at(repo: GitRepo, at: str) -> str:
    """Who holds m's prod then ("" for nobody, also before m existed or while deprecated)."""
    result = stagetag("show", "--json", "--at", at, cwd=repo.path)
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stdout).get("m", {})
    return str(entry.get("stage", {}).get("prod") or "")


@pytest.fixture
def registry(repo: GitRepo) -> GitRepo:
    """m: v1 then v2 in prod, both at 12:00:00 (one second: GTO's order decides, by name),
    v2 again at 13:00 (+02:00 tagger), prod unassigned from v2 at 14:00, deprecated at 15:00."""
    first = repo.commit("c1", "2024-01-01T12:00:00+0000")
    second = repo.commit("c2", "2024-01-05T12:00:00+0000")
    repo.tag("m@v1.0.0", first, "2024-02-01T10:00:00+0000", "first version")
    repo.tag("m@v2.0.0", second, "2024-02-01T10:00:00+0000")
    repo.tag("m#prod#1", first, "2024-02-01T12:00:00+0000", "v1 to prod")
    repo.tag("m#staging#2", second, "2024-02-01T12:00:00+0000")
    repo.tag("m#prod#3", second, "2024-02-01T15:00:00+0200", "v2 to prod")
    repo.tag("m#prod!#4", second, "2024-02-01T14:00:00+0000", "v2 out of prod")
    repo.tag("m@deprecated", second, "2024-02-01T15:00:00+0000", "retired")
    repo.lightweight_tag("light", first)
    return repo


def test_an_instant_holds_every_tag_of_its_second(registry: GitRepo) -> None:
    assert prod_at(registry, "2024-02-01T11:59:59Z") == ""
    assert prod_at(registry, "2024-02-01T12:00:00Z") == "v1.0.0"
    assert prod_at(registry, "2024-02-01T12:59:59.999Z") == "v1.0.0"  # fractions are cut off
    assert prod_at(registry, "2024-02-01T13:00:00Z") == "v2.0.0"
    assert prod_at(registry, "2024-02-01T15:00:00+02:00") == "v2.0.0"  # the same instant
    assert prod_at(registry, "2024-02-01 14:00") == "v1.0.0"  # TZ=UTC: GTO falls back to v1
    assert prod_at(registry, "2024-02-01T15:00:00Z") == ""  # deprecated: not shown
    assert prod_at(registry, "2024-02-01") == ""  # a date is its midnight
    assert prod_at(registry, "2024-02-02") == ""


def test_an_instant_can_be_a_tag_or_a_commit(registry: GitRepo) -> None:
    assert prod_at(registry, "m#prod#3") == "v2.0.0"  # its tagger time
    assert prod_at(registry, "refs/tags/m#prod!#4") == "v1.0.0"
    assert prod_at(registry, "light") == ""  # a lightweight tag: its commit's time
    registry.commit("c3", "2024-02-01T13:30:00+0000")
    assert prod_at(registry, "HEAD") == "v2.0.0"  # the committer time
    assert prod_at(registry, "main~1") == ""


def test_show_at_prints_what_show_prints(registry: GitRepo) -> None:
    for form in ([], ["--json"], ["--md"], ["m"], ["m", "--json"], ["m", "--md"]):
        at = stagetag("show", *form, "--at", "2024-02-01T13:00:00Z", cwd=registry.path)
        registry.git("tag", "-d", "m#prod!#4", "m@deprecated")
        now = stagetag("show", *form, cwd=registry.path)
        assert at.returncode == now.returncode == 0 and at.stdout == now.stdout, form
        registry.tag("m#prod!#4", "HEAD", "2024-02-01T14:00:00+0000", "v2 out of prod")
        registry.tag("m@deprecated", "HEAD", "2024-02-01T15:00:00+0000", "retired")


@pytest.mark.parametrize(
    ("at", "words"),
    [
        ("2024-02-30", ["not a valid date"]),
        ("2024-02-01T24:00", ["not a valid date"]),
        ("2024-02-01T10:00+24:00", ["not a UTC offset"]),
        ("yesterday", ["a date (2024-02-01)", "nor a commit or tag"]),
        ("HEAD^{tree}", ["names a tree"]),
        ("a\nb", ["expected a date"]),
        ("", ["expected a date"]),
    ],
)
def test_a_bad_instant_is_one_line(registry: GitRepo, at: str, words: list[str]) -> None:
    result = stagetag("show", "--at", at, cwd=registry.path)
    assert result.returncode == 1 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert all(word in result.stderr for word in words), result.stderr
    assert "Traceback" not in result.stderr


def holdings(repo: GitRepo, stage: str, *args: str) -> list[dict[str, object]]:
    result = stagetag("history", "m", "--stage", stage, "--json", *args, cwd=repo.path)
    assert result.returncode == 0, result.stderr
    records: list[dict[str, object]] = json.loads(result.stdout)
    return records


def test_history_stage_json(registry: GitRepo) -> None:
    """Newest first; a fallback after an unassignment is a holding of its own, started by the
    unassignment; the deprecation ends the last one."""
    records = holdings(registry, "prod")
    assert [(r["version"], r["from"], r["to"], r["seconds"]) for r in records] == [
        ("v1.0.0", "2024-02-01T14:00:00+00:00", "2024-02-01T15:00:00+00:00", 3600),
        ("v2.0.0", "2024-02-01T15:00:00+02:00", "2024-02-01T14:00:00+00:00", 3600),
        ("v1.0.0", "2024-02-01T12:00:00+00:00", "2024-02-01T15:00:00+02:00", 3600),
    ]
    assert [(r["ref"], r["started_by"], r["ended_by"]) for r in records] == [
        ("m#prod#1", "m#prod!#4", "m@deprecated"),
        ("m#prod#3", "m#prod#3", "m#prod!#4"),
        ("m#prod#1", "m#prod#1", "m#prod#3"),
    ]
    assert records[0]["message"] == "v1 to prod" and records[0]["author"] == "Alice Tester"
    assert records[0]["assigned_at"] == "2024-02-01T12:00:00+00:00"
    assert holdings(registry, "prod", "--asc") == records[::-1]
    assert [r["version"] for r in holdings(registry, "staging")] == ["v2.0.0"]


def test_history_stage_table_and_markdown(registry: GitRepo) -> None:
    table = stagetag("history", "m", "--stage", "prod", cwd=registry.path).stdout.splitlines()
    assert table[0].split() == ["version", "from", "to", "held", "assigned", "by", "ref", "message"]
    assert table[2].split()[:5] == [
        "v1.0.0", "2024-02-01T14:00:00+00:00", "2024-02-01T15:00:00+00:00", "1h", "Alice",
    ]  # fmt: skip
    md = stagetag("history", "m", "--stage", "prod", "--md", cwd=registry.path).stdout
    assert md.splitlines()[0] == "| version | from | to | held | assigned by | ref | message |"
    assert "| v1.0.0 | 2024-02-01T14:00:00+00:00 | 2024-02-01T15:00:00+00:00 | 1h |" in md
    registry.git("tag", "-d", "m@deprecated")
    current = stagetag("history", "m", "--stage", "prod", cwd=registry.path).stdout
    assert current.splitlines()[2].split()[2:4] == ["now", "so"]  # "so far"


def test_history_stage_errors(registry: GitRepo) -> None:
    def error(*args: str) -> str:
        result = stagetag("history", *args, cwd=registry.path)
        assert result.returncode == 1 and result.stdout == "" and "Traceback" not in result.stderr
        assert len(result.stderr.splitlines()) == 1, result.stderr
        return result.stderr

    assert "needs an artifact" in error("--stage", "prod")
    assert "'nope'" in error("nope", "--stage", "prod")
    (registry.path / ".gto").write_text("stages: [dev, prod]\n")
    assert "not one of the stages .gto allows (dev, prod)" in error("m", "--stage", "qa")
    empty = stagetag("history", "m", "--stage", "dev", cwd=registry.path)
    assert empty.returncode == 0 and "has held 'dev'" in empty.stdout


def test_an_unreadable_tag_object_as_instant_is_one_line(registry: GitRepo) -> None:
    """A tag object GTO cannot read (here: no tagger) has no time to go back to."""
    head = registry.git("rev-parse", "HEAD")
    raw = f"object {head}\ntype commit\ntag odd\n\nno tagger\n".encode()
    sha = (
        subprocess.run(
            ["git", "hash-object", "-t", "tag", "-w", "--literally", "--stdin"],
            cwd=registry.path,
            input=raw,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    registry.git("update-ref", "refs/tags/odd", sha)
    result = stagetag("show", "--at", "odd", cwd=registry.path)
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert "its tag object is unreadable (it has no tagger)" in result.stderr
