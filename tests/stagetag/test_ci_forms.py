"""The CI form links and commands (stagetag.ci_forms, stagetag.hosting) for any value, and the
`dashboard:` section of stagetag.yaml with its one-line errors."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stagetag.ci_forms import CiForms, DashboardSettings, load_dashboard_settings
from stagetag.errors import StagetagError
from stagetag.hosting import Hosting, hosting_at
from stagetag.settings import load_settings

# Whatever a value holds (tag data passes GTO's grammar, but the links must not rely on it).
VALUES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
GITLAB = Hosting("gitlab", "https://gitlab.example.com/acme/ml/models")
GITHUB = Hosting("github", "https://github.com/acme/models")


@given(name=VALUES, version=VALUES, stage=VALUES, branch=VALUES)
def test_the_pipeline_link_carries_each_value_as_given(
    name: str, version: str, stage: str, branch: str
) -> None:
    link = CiForms(GITLAB, branch, DashboardSettings()).unassign(name, version, stage)
    parts = urlsplit(link.url)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
        "https",
        "gitlab.example.com",
        "/acme/ml/models/-/pipelines/new",
        "",
    )
    assert parse_qsl(parts.query, keep_blank_values=True) == [
        ("ref", branch),
        ("var[NAME]", name),
        ("var[VERSION]", version),
        ("var[STAGE]", stage),
        ("var[STAGETAG_COMMAND]", "unassign"),
    ]
    assert link.url.isascii() and link.url.isprintable() and " " not in link.url
    assert link.command is None


@given(name=VALUES, version=VALUES, stage=VALUES)
def test_the_gh_command_gives_bash_each_value_as_one_word(
    name: str, version: str, stage: str
) -> None:
    link = CiForms(GITHUB, "main", DashboardSettings()).assign(name, version, stage)
    assert link.url == "https://github.com/acme/models/actions/workflows/assign-stage.yml"
    assert link.command is not None
    assert all(c.isprintable() or c in "\n\t" for c in link.command)
    argv = subprocess.run(  # `gh` here prints its arguments, NUL-separated
        ["bash", "-c", f'gh() {{ printf "%s\\0" "$@"; }}; {link.command}'],
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout.split(b"\0")[:-1]
    assert [a.decode("utf-8", "surrogateescape") for a in argv] == [
        "workflow", "run", "assign-stage.yml", "--repo", "acme/models", "--ref", "main",
        "-f", f"name={name}", "-f", f"version={version}", "-f", f"stage={stage}",
    ]  # fmt: skip


def test_enterprise_repository_names_its_host() -> None:
    forms = CiForms(
        Hosting("github", "https://ghe.example.com/ml/models"), "main", DashboardSettings()
    )
    assert "--repo ghe.example.com/ml/models " in (forms.deprecate("m").command or "")


def test_fields_and_workflow_from_the_settings() -> None:
    settings = DashboardSettings(workflow="registry.yaml", fields=(("stage", "target"),))
    link = CiForms(GITHUB, "trunk", settings).unassign("m", "v1.0.0", "prod")
    assert link.command == (
        "gh workflow run registry.yaml --repo acme/models --ref trunk -f name=m "
        "-f version=v1.0.0 -f target=prod -f command=unassign"
    )


@pytest.mark.parametrize(
    ("url", "platform", "base"),
    [
        ("https://github.com/acme/models", None, ("github", "https://github.com/acme/models")),
        ("https://gitlab.com/g/sub/p.git/", None, ("gitlab", "https://gitlab.com/g/sub/p")),
        ("http://git.local:8080/g/p", "gitlab", ("gitlab", "http://git.local:8080/g/p")),
    ],
)
def test_project_addresses(url: str, platform: str | None, base: tuple[str, str]) -> None:
    assert tuple(hosting_at(url, platform)) == base


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "stagetag.yaml").write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("dashboard:\n  colour: red\n", "stagetag.yaml:2: colour: unknown key"),
        ("dashboard:\n  platform: bitbucket\n", ":2: platform: expected github or gitlab"),
        ("dashboard:\n  url: https://x:token@github.com/a/b\n", ":2: url: the address holds"),
        ("dashboard:\n  url: ftp://github.com/a/b\n", ":2: url: expected the project's web"),
        ("dashboard:\n  url: https://git.example.com/a/b\n", "set platform"),
        ("dashboard:\n  url: https://github.com/a/b?x=1\n", "expected the project's web"),
        ("dashboard:\n  url: https://github.com/onlyone\n", "is not a project path"),
        ("dashboard:\n  branch: a b\n", ":2: branch: 'a b' is not a branch name"),
        ("dashboard:\n  branch: -x\n", "is not a branch name"),
        ("dashboard:\n  branch: a..b\n", "is not a branch name"),
        ("dashboard:\n  branch: 7\n", ":2: branch: expected text"),
        ("dashboard:\n  workflow: ../x.yml\n", ":2: workflow: expected a workflow file"),
        ("dashboard:\n  fields:\n    stage: 'a b'\n", ":3: stage: expected an input or"),
        ("dashboard:\n  fields:\n    owner: x\n", ":3: owner: unknown key"),
        ("dashboard:\n  actions: 'no'\n", ":2: actions: expected true or false"),
        ("dashboard: [1]\n", "dashboard: expected a mapping"),
    ],
)
def test_bad_settings_are_one_line(tmp_path: Path, text: str, error: str) -> None:
    with pytest.raises(StagetagError) as e:
        load_dashboard_settings(load_settings(write(tmp_path, text)))
    assert error in str(e.value) and "\n" not in str(e.value)


def test_settings_read(tmp_path: Path) -> None:
    text = (
        "dashboard:\n  url: https://gitlab.example.com/g/p\n  platform: gitlab\n"
        "  branch: release/2024\n  workflow: '12345'\n  fields: {name: MODEL}\n  actions: false\n"
    )
    assert load_dashboard_settings(load_settings(write(tmp_path, text))) == DashboardSettings(
        url="https://gitlab.example.com/g/p",
        platform="gitlab",
        branch="release/2024",
        workflow="12345",
        fields=(("name", "MODEL"),),
        actions=False,
    )
    assert load_dashboard_settings(load_settings(tmp_path / "none")) == DashboardSettings()
