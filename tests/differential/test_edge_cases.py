"""Tags the random generator does not make, compared with gto 1.10.1: a stage tag on another
tag, CRLF messages, half-hour and quarter-hour offsets, signed tags, duplicate `.gto` stages,
one tag object under two ref names, and `artifacts.yaml` annotations at HEAD and at the
versions' commits."""

from __future__ import annotations

from pathlib import Path

from conftest import GitRepo
from difftest_harness import cli_env, compare

COMMANDS = [
    ["show", "--json"],
    ["show", "-d", "--json"],
    ["show", "m", "--json"],
    ["show", "m", "-d", "--json"],
    ["show", "m#dev", "--version"],
    ["show", "m", "--ref"],
    ["show", "churn", "--json"],
    ["history", "--json"],
    ["check-ref", "m#dev#2", "--json"],
    ["check-ref", "m@v1.0.0", "--json"],
    ["stages", "--json"],
]


def test_edge_cases_read_as_gto_reads_them(repo: GitRepo, tmp_path: Path) -> None:
    c1 = repo.commit("c1", "2024-01-01T12:00:00+0000")
    repo.tag("m@v1.0.0", c1, "2024-01-01T00:00:00-0330", "line one\r\nline two\r\n")
    repo.tag("m#prod#1", c1, "2024-01-02T00:00:00+1245", "x")
    repo.tag("inner", c1, "2024-01-02T00:00:00+0000", "a plain tag")
    repo.tag("m#dev#2", "inner", "2024-01-03T00:00:00+0000", "a stage tag on a tag")
    (repo.path / "artifacts.yaml").write_text(
        "churn:\n  type: model\n  path: models/churn.pkl\n  labels: [tabular]\n"
        "  description: Churn model\n  custom: {owner: team-a}\n"
        "m:\n  type: model\n  description: annotated m\n"
    )
    c2 = repo.commit("c2", "2024-01-04T12:00:00+0000")
    repo.tag("m@v1.1.0", c2, "2024-01-05T00:00:00+0000", "Registering artifact m version v1.1.0")
    repo.signed_tag("m#qa#3", c2, "signed assignment")
    repo.git("tag", "m#prod#7", "m#prod#1")  # the same tag object under a second name
    repo.git("tag", "m@v1.1.0#8", "m@v1.1.0")
    (repo.path / ".gto").write_text("stages: [dev, dev, prod, qa]\n")
    home = tmp_path / "home"
    home.mkdir()
    compare(COMMANDS, repo.path, cli_env(home))
