"""The deterministic Part A fixture of gto-interop.md, compared command by command with gto 1.10.1.

It holds the known traps: same-second ties, an unassignment in the same second as its assignment,
a simple-form assignment, a +05:30 tagger offset, a lightweight GTO-named tag, a non-GTO tag and a
monorepo name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import make_repo
from difftest_harness import cli_env, compare, oracle, pinned_environ

# (tag, commit index, tagger date, message); None as date means a lightweight tag.
TAGS: list[tuple[str, int, str | None, str]] = [
    ("m@v0.0.1", 1, "2024-02-01T00:00:00+0000", "Registering artifact m version v0.0.1"),
    ("m@v0.0.2", 2, "2024-02-02T00:00:00+0000", "Registering artifact m version v0.0.2"),
    ("m@v0.0.3", 3, "2024-02-02T00:00:00+0000", "Registering artifact m version v0.0.3"),
    (
        "m#prod#1",
        1,
        "2024-02-03T00:00:00+0000",
        "Assigning stage prod to artifact m version v0.0.1",
    ),
    (
        "m#prod#3",
        3,
        "2024-02-04T00:00:00+0000",
        "Assigning stage prod to artifact m version v0.0.3",
    ),
    (
        "m#prod#2",
        2,
        "2024-02-04T00:00:00+0000",
        "Assigning stage prod to artifact m version v0.0.2",
    ),
    ("m#dev#4", 3, "2024-02-05T00:00:00+0000", "Assigning stage dev to artifact m version v0.0.3"),
    (
        "m#dev!#5",
        3,
        "2024-02-05T00:00:00+0000",
        "Unassigning stage 'dev' to artifact 'm' version 'v0.0.3'",
    ),
    ("m#qa", 2, "2024-02-06T00:00:00+0000", "hand-written message"),
    ("m#qa#6", 3, "2024-02-07T00:00:00+0000", "Assigning stage qa to artifact m version v0.0.3"),
    (
        "m#staging#7",
        1,
        "2024-02-08T05:30:00+0530",
        "Assigning stage staging to artifact m version v0.0.1",
    ),
    ("m#prod#99", 1, None, ""),
    (
        "svc/api=model@v1.0.0",
        2,
        "2024-02-09T00:00:00+0000",
        "Registering artifact svc/api:model version v1.0.0",
    ),
    ("release-1.0", 3, "2024-02-09T00:00:00+0000", "not a gto tag"),
]

COMMIT_SHAS = [
    "80bdc7698bc8f0996ddb163b93f104937af47b14",
    "2170983607b177b2fa6b1ac23f68fb3241b943c7",
    "42fa0455dd7110b06c9e4ffb9f925b76edb5aa1f",
]

# Published sha256[:16] of gto's stdout (gto-interop.md, Part A), to prove the fixture is exact.
PUBLISHED = {
    ("show", "--json"): "3dcbbb0b11343b4d",
    ("show", "-d", "--json"): "3dcbbb0b11343b4d",
    ("show", "m", "--json"): "b00e2d66f0811a42",
    ("show", "m#prod", "--json"): "a26b55654bed08c9",
    ("history", "--json"): "738a5275ecbf1c2e",
    ("history", "m", "--json"): "094d779e3adf7f22",
    ("history", "m", "--json", "--asc"): "8a9bf2d2b479c246",
    ("check-ref", "m#prod#2", "--json"): "4b79002f02ecc88f",
    ("stages", "--json"): "64c388fd2570c620",
}

SHOW_COMMANDS = [
    ["show", "--json"],
    ["show", "-d", "--json"],
    ["show", "m", "--json"],
    ["show", "m#prod", "--json"],
    ["show", "m", "-d", "--json"],
    ["show", "svc/api:model", "--json"],
    ["show", "m#prod", "--version"],
    ["show", "m#prod", "--version", "--sort", "semver"],
    ["show", "m#prod", "--version", "--vs", "-1"],
    ["show", "m#dev", "--version"],
    ["show", "m#qa", "--ref"],
    ["show", "m#staging", "--version"],
    ["show", "m@latest", "--ref"],
    ["show", "m@greatest", "--version"],
    ["show", "m", "--version"],
    ["show", "m", "--ref"],
    ["show", "m", "--stage"],
    ["show", "--name"],
    ["show", "--vs", "-1", "--json"],
    ["show", "--av", "1", "--json"],
    ["show", "--av", "0", "--json"],
    ["show", "--ro", "--json"],
    ["show", "--sort", "semver", "--json"],
    ["show", "m@v0.0.2", "--json"],
    ["show", "m@v0.0.2", "--version"],
    ["show", "svc/api:model#prod", "--version"],
]

HISTORY_COMMANDS = [
    ["history", "--json"],
    ["history", "--json", "--asc"],
    ["history", "m", "--json"],
    ["history", "m", "--json", "--asc"],
    ["history", "svc/api:model", "--json"],
]

STAGES_COMMANDS = [
    ["stages"],
    ["stages", "--json"],
    ["stages", "--allowed"],
    ["stages", "--allowed", "--json"],
    ["stages", "--used"],
    ["stages", "--used", "--json"],
]

REFS = [
    *[name for name, *_ in TAGS],
    *[f"refs/tags/{name}" for name, *_ in TAGS],
    "refs/heads/main",
    "main",
    COMMIT_SHAS[0],
    "does-not-exist",
    "refs/tags/does-not-exist",
]
CHECK_REF_FLAGS = ["--json", "--name", "--version", "--stage", "--event"]
CHECK_REF_COMMANDS = [["check-ref", ref, flag] for ref in REFS for flag in CHECK_REF_FLAGS]


@dataclass(frozen=True)
class Fixture:
    path: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def fixture_a(tmp_path_factory: pytest.TempPathFactory) -> Fixture:
    """Built once per module (and per xdist worker), with an explicitly pinned environment."""
    home = tmp_path_factory.mktemp("home-a")
    path = tmp_path_factory.mktemp("fixture-a") / "gto-fixture"
    with pinned_environ(home):
        repo = make_repo(path)
        shas = [repo.commit(f"c{i}", f"2024-01-0{i}T12:00:00+0000") for i in (1, 2, 3)]
        assert shas == COMMIT_SHAS
        for name, index, date, message in TAGS:
            if date is None:
                repo.lightweight_tag(name, shas[index - 1])
            else:
                repo.tag(name, shas[index - 1], date, message)
    return Fixture(path, cli_env(home))


def test_fixture_matches_published_gto_hashes(fixture_a: Fixture) -> None:
    """Guards the fixture itself: gto's own output must hash to the values in gto-interop.md."""
    argvs = list(PUBLISHED)
    outcomes = oracle().run(argvs, fixture_a.path, fixture_a.env)
    got = {
        argv: hashlib.sha256(out.stdout).hexdigest()[:16]
        for argv, out in zip(argvs, outcomes, strict=True)
    }
    assert got == PUBLISHED


def test_show(fixture_a: Fixture) -> None:
    compare(SHOW_COMMANDS, fixture_a.path, fixture_a.env)


def test_history(fixture_a: Fixture) -> None:
    compare(HISTORY_COMMANDS, fixture_a.path, fixture_a.env)


def test_stages(fixture_a: Fixture) -> None:
    compare(STAGES_COMMANDS, fixture_a.path, fixture_a.env)


def test_check_ref(fixture_a: Fixture) -> None:
    compare(CHECK_REF_COMMANDS, fixture_a.path, fixture_a.env)


def test_repo_option_from_another_directory(fixture_a: Fixture) -> None:
    """`-r PATH` must read the same registry as running inside it."""
    repo = str(fixture_a.path)
    argvs = [
        ["show", "-r", repo, "--json"],
        ["history", "m", "-r", repo, "--json"],
        ["check-ref", "m#prod#2", "-r", repo, "--json"],
        ["stages", "-r", repo, "--json"],
    ]
    compare(argvs, fixture_a.path.parent, fixture_a.env)


def test_real_console_script(fixture_a: Fixture) -> None:
    """The in-process batch could hide start-up or encoding bugs, so run the real binary too."""
    argvs = [
        ["show", "--json"],
        ["show", "m#prod", "--version"],
        ["history", "--json"],
        ["check-ref", "refs/tags/m#staging#7", "--json"],
        ["check-ref", "m#prod#99", "--version"],
        ["stages"],
    ]
    compare(argvs, fixture_a.path, fixture_a.env, batch=False)
