"""The dashboard's stage timelines and its actions (issue 13), in headless Chromium: a model
page's timeline read from the DOM against `history --stage`, "Assign stage", "Unassign" and
"Deprecate" followed to the CI form of a GitHub and of a GitLab remote (the browser resolves no
host, so following a link ends on an error page whose URL is the link's), the copy button's
command read back from the clipboard, and screenshots in test-artifacts/.

The registry is test_dashboard.py's (churn: prod v1.0.0, v1.1.0, unassigned back to v1.0.0).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import html5lib
import pytest
from conftest import SUMMARY, GitRepo, isolated_git, run_stagetag
from test_dashboard import (
    ARTIFACTS_DIR,
    XHTML,
    build_registry,
    open_page,
    screenshot,
    text_of,
)
from test_dashboard import browser as browser  # the module's own Chromium (a module fixture)

from stagetag.presentation.dashboard import slug

pytestmark = pytest.mark.xdist_group("test_dashboard")

STAGES = ["dev", "staging", "prod"]
GITLAB = "https://gitlab.example.com/acme/ml/models"
WORKFLOW = "https://github.com/acme/models/actions/workflows/assign-stage.yml"


class Site:
    def __init__(self, repo: GitRepo, output: Path) -> None:
        self.repo, self.output = repo, output

    def page(self, name: str) -> Path:
        return self.output / "models" / f"{slug(name)}.html"


def render(tmp: Path, remote: str, settings: str = "", origin_head: str | None = None) -> Site:
    repo, _ = build_registry(tmp / "repo", remote)
    (repo.path / ".gto").write_text(f"stages: [{', '.join(STAGES)}]\n")
    if settings:
        (repo.path / "stagetag.yaml").write_text(settings)
    if origin_head:  # what `git clone` leaves: the remote's default branch
        repo.git("update-ref", f"refs/remotes/origin/{origin_head}", "HEAD")
        repo.git("symbolic-ref", "refs/remotes/origin/HEAD", f"refs/remotes/origin/{origin_head}")
    result = run_stagetag("dashboard", "-o", str(tmp / "site"), cwd=repo.path, check=True)
    assert result.stderr == ""
    return Site(repo, tmp / "site")


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("github")
    with isolated_git(tmp / "home"):
        yield render(tmp, "git@github.com:acme/models.git", "dashboard:\n  branch: release\n")


@pytest.fixture(scope="module")
def gitlab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("gitlab")
    with isolated_git(tmp / "home"):
        yield render(tmp, f"{GITLAB}.git", origin_head="trunk")


def version_row(driver: Any, version: str) -> Any:
    from selenium.webdriver.common.by import By

    for tr in driver.find_elements(By.CSS_SELECTOR, "#versions tbody tr"):
        if text_of(tr.find_element(By.TAG_NAME, "th")) == version:
            return tr
    raise AssertionError(f"no row for {version}")


def open_menu(row: Any, title: str) -> Any:
    """Open a row's menu the way a keyboard user does: focus its summary, press Enter."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    for menu in row.find_elements(By.CSS_SELECTOR, "details.menu"):
        summary = menu.find_element(By.TAG_NAME, "summary")
        if text_of(summary) == title:
            summary.send_keys(Keys.ENTER)
            assert menu.get_attribute("open") is not None
            return menu
    raise AssertionError(f"no menu {title!r}")


def follow(driver: Any, link: Any) -> tuple[str, str, dict[str, list[str]]]:
    """Click a link and return where the browser went: host, path and query."""
    link.click()
    target = urlsplit(driver.current_url)
    return target.netloc, target.path, parse_qs(target.query, keep_blank_values=True)


def timeline(driver: Any, stage: str) -> list[tuple[str, str, str, str]]:
    """A stage timeline's rows: version, from (its datetime), to (its datetime, or
    "current"), and who assigned it."""
    from selenium.webdriver.common.by import By

    table = driver.find_element(By.CSS_SELECTOR, f"table.timeline-table[data-stage='{stage}']")
    rows = []
    for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
        ends = tr.find_elements(By.CSS_SELECTOR, "td.to time")
        rows.append(
            (
                text_of(tr.find_element(By.TAG_NAME, "th")),
                tr.find_element(By.CSS_SELECTOR, "td.from time").get_attribute("datetime"),
                ends[0].get_attribute("datetime") if ends else "current",
                text_of(tr.find_element(By.CSS_SELECTOR, "td.by")),
            )
        )
    return rows


def test_model_page_timeline_is_history_stage(github: Site, browser: Any) -> None:
    """Per stage, the rows `history churn --stage STAGE --json` gives, newest first; the
    fallback to v1.0.0 after the unassignment names the tag that caused it."""
    from selenium.webdriver.common.by import By

    open_page(browser, github.page("churn"))
    headings = browser.find_elements(By.CSS_SELECTOR, ".stage-timeline h3")
    assert [text_of(h) for h in headings] == STAGES
    for stage in STAGES:
        out = run_stagetag("history", "churn", "--stage", stage, "--json", cwd=github.repo.path)
        expected = [
            (r["version"], r["from"], r["to"] or "current", f"{r['author']} ({r['ref']})")
            for r in json.loads(out.stdout)
        ]
        assert timeline(browser, stage) == expected, stage
    alice = "Alice Tester (churn#prod#{})".format
    assert timeline(browser, "prod") == [
        ("v1.0.0", "2024-02-06T00:00:00+00:00", "current", alice(1)),
        ("v1.1.0", "2024-02-05T00:00:00+00:00", "2024-02-06T00:00:00+00:00", alice(2)),
        ("v1.0.0", "2024-02-04T00:00:00+00:00", "2024-02-05T00:00:00+00:00", alice(1)),
    ]
    prod = browser.find_element(By.CSS_SELECTOR, "table[data-stage='prod']")
    reasons = [text_of(e) for e in prod.find_elements(By.CSS_SELECTOR, ".why")]
    assert reasons == ["after churn#prod!#3", "by churn#prod!#3", "by churn#prod#2"]
    held = [text_of(e) for e in prod.find_elements(By.CSS_SELECTOR, "td.held")]
    assert held == ["so far", "1d", "1d"]
    messages = [text_of(e) for e in prod.find_elements(By.CSS_SELECTOR, "td.message")]
    assert messages == ["churn#prod#1", "churn#prod#2", "churn#prod#1"]  # the tags' messages
    bars = browser.find_elements(By.CSS_SELECTOR, ".stage-timeline .bar")
    assert all(bar.get_attribute("aria-hidden") == "true" for bar in bars)


def test_github_assign_stage_opens_the_workflow_and_copies_the_command(
    github: Site, browser: Any, record_property: Any
) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, github.page("churn"))
    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    menu = open_menu(version_row(browser, "v1.2.0"), "Assign stage")
    items = menu.find_elements(By.CSS_SELECTOR, "li")
    assert [text_of(li.find_element(By.CSS_SELECTOR, ".choice")) for li in items] == STAGES
    commands = [text_of(li.find_element(By.CSS_SELECTOR, "code")) for li in items]
    assert commands == [
        "gh workflow run assign-stage.yml --repo acme/models --ref release -f name=churn "
        f"-f version=v1.2.0 -f stage={stage}"
        for stage in STAGES
    ]
    button = items[2].find_element(By.CSS_SELECTOR, "button.copy")
    assert (
        button.is_displayed()
        and button.get_attribute("aria-label") == "Copy the command: Assign prod to v1.2.0"
    )
    button.click()
    copied = browser.execute_async_script(
        "navigator.clipboard.readText().then(arguments[0], e => arguments[0]('error: ' + e))"
    )
    assert copied == commands[2]
    assert text_of(button) == "Copied"
    assert text_of(browser.find_element(By.ID, "copy-status")) == f"Copied: {commands[2]}"
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    shot = ARTIFACTS_DIR / "dashboard-actions-github.png"
    browser.save_screenshot(str(shot))
    record_property(SUMMARY, f"screenshot of the Assign stage menu: {shot}")
    host, path, query = follow(browser, menu.find_element(By.LINK_TEXT, "Open the workflow"))
    assert (host, path, query) == (
        "github.com",
        "/acme/models/actions/workflows/assign-stage.yml",
        {},
    )


def test_github_unassign_and_deprecate(github: Site, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, github.page("nlp:sentiment"))
    menu = open_menu(version_row(browser, "v0.1.0"), "Unassign")
    (command,) = [text_of(c) for c in menu.find_elements(By.CSS_SELECTOR, "code")]
    assert command == (
        "gh workflow run assign-stage.yml --repo acme/models --ref release -f name=nlp:sentiment "
        "-f version=v0.1.0 -f stage=prod -f command=unassign"
    )
    deprecate = open_menu(browser.find_element(By.CSS_SELECTOR, ".model-actions"), "Deprecate")
    assert text_of(deprecate.find_element(By.CSS_SELECTOR, "code")) == (
        "gh workflow run assign-stage.yml --repo acme/models --ref release "
        "-f name=nlp:sentiment -f command=deprecate"
    )
    open_page(browser, github.page("legacy"))  # deprecated: nothing to deprecate
    assert browser.find_elements(By.CSS_SELECTOR, ".model-actions") == []


def test_gitlab_assign_stage_opens_run_pipeline_with_the_variables(
    gitlab: Site, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, gitlab.page("nlp:sentiment"))
    menu = open_menu(version_row(browser, "v0.2.0"), "Assign stage")
    links = menu.find_elements(By.CSS_SELECTOR, "li a")
    assert [text_of(a) for a in links] == STAGES
    assert links[2].get_attribute("aria-label") == "Assign prod to v0.2.0 (Run pipeline)"
    assert menu.find_elements(By.CSS_SELECTOR, "code, button") == []
    screenshot(browser, gitlab.page("nlp:sentiment"), "model-actions-gitlab")
    open_page(browser, gitlab.page("nlp:sentiment"))
    menu = open_menu(version_row(browser, "v0.2.0"), "Assign stage")
    host, path, query = follow(browser, menu.find_elements(By.CSS_SELECTOR, "li a")[2])
    assert (host, path) == ("gitlab.example.com", "/acme/ml/models/-/pipelines/new")
    assert query == {
        "ref": ["trunk"],  # the remote's HEAD
        "var[NAME]": ["nlp:sentiment"],
        "var[VERSION]": ["v0.2.0"],
        "var[STAGE]": ["prod"],
    }


def gitlab_links(site: Site, name: str) -> dict[str, list[str]]:
    """Every action link of a model page, by its accessible name, from the HTML itself."""
    document = html5lib.parse(site.page(name).read_bytes())
    return {
        a.get("aria-label"): a.get("href")
        for a in document.iter(f"{XHTML}a")
        if (a.get("aria-label") or "").endswith("(Run pipeline)")
    }


def test_gitlab_unassign_and_deprecate_set_the_command(gitlab: Site) -> None:
    links = gitlab_links(gitlab, "churn")
    unassign = urlsplit(links["Unassign prod from v1.0.0 (Run pipeline)"])
    assert parse_qs(unassign.query) == {
        "ref": ["trunk"],
        "var[NAME]": ["churn"],
        "var[VERSION]": ["v1.0.0"],
        "var[STAGE]": ["prod"],
        "var[STAGETAG_COMMAND]": ["unassign"],
    }
    deprecate = urlsplit(links["Deprecate churn (Run pipeline)"])
    assert parse_qs(deprecate.query) == {
        "ref": ["trunk"],
        "var[NAME]": ["churn"],
        "var[STAGETAG_COMMAND]": ["deprecate"],
    }
    # v1.1.0 was unassigned from prod and holds nothing: no Unassign for it
    assert not [label for label in links if label.startswith("Unassign") and "v1.1.0" in label]


def test_without_javascript_the_commands_are_text(github: Site) -> None:
    """The copy buttons start hidden (the script shows them); the commands and the timeline are
    in the HTML."""
    document = html5lib.parse(github.page("churn").read_bytes())
    buttons = list(document.iter(f"{XHTML}button"))
    assert buttons and all(b.get("hidden") is not None for b in buttons)
    codes = ["".join(c.itertext()) for c in document.iter(f"{XHTML}code")]
    assert any(c.startswith("gh workflow run assign-stage.yml") for c in codes)
    tables = [t for t in document.iter(f"{XHTML}table") if t.get("data-stage")]
    assert [t.get("data-stage") for t in tables] == STAGES


def test_settings_turn_the_actions_off_or_point_elsewhere(tmp_path: Path) -> None:
    off = render(
        tmp_path / "off", "git@github.com:acme/models.git", "dashboard:\n  actions: false\n"
    )
    assert "details" not in off.page("churn").read_text()
    elsewhere = render(
        tmp_path / "elsewhere",
        "/srv/git/models.git",  # a remote the pages cannot link to
        "dashboard:\n  url: https://git.example.com/ml/models\n  platform: gitlab\n"
        "  fields: {stage: MODEL_STAGE}\n",
    )
    text = elsewhere.page("churn").read_text()
    assert "https://git.example.com/ml/models/-/pipelines/new?ref=main&amp;var[NAME]=churn" in text
    assert "var[MODEL_STAGE]=prod" in text
    assert "https://git.example.com/ml/models/-/commit/" in text  # the commit links follow


def test_a_broken_dashboard_section_warns_and_renders(tmp_path: Path) -> None:
    repo, _ = build_registry(tmp_path / "repo", "git@github.com:acme/models.git")
    (repo.path / "stagetag.yaml").write_text("dashboard:\n  platform: bitbucket\n")
    result = run_stagetag("dashboard", "-o", "site", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("stagetag: warning: ") and "platform" in result.stderr
    assert "stagetag.yaml:2" in result.stderr
    doctor = run_stagetag("doctor", cwd=repo.path)
    assert doctor.returncode == 1 and "platform: expected github or gitlab" in doctor.stdout


def test_the_command_is_one_word_per_value_in_bash(github: Site) -> None:
    """What the page shows runs as the same argv: bash reads it back word for word."""
    document = html5lib.parse(github.page("nlp:sentiment").read_bytes())
    command = next(
        "".join(c.itertext())
        for c in document.iter(f"{XHTML}code")
        if "stage=prod" in "".join(c.itertext())
    )
    argv = subprocess.run(
        ["bash", "-c", f'gh() {{ printf "%s\\n" "$@"; }}; {command}'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert argv == [
        "workflow", "run", "assign-stage.yml", "--repo", "acme/models", "--ref", "release",
        "-f", "name=nlp:sentiment", "-f", "version=v0.2.0", "-f", "stage=prod",
    ]  # fmt: skip
