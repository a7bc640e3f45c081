"""`stagetag dashboard` and the Markdown views, end to end: a registry built with real git, the
real `stagetag` executable, and the pages driven in headless Chromium through their DOM.

Chromium and its driver are Debian's (`chromium`, `chromium-driver`); Selenium is told where both
are, so it never downloads a browser. Without them the browser tests skip locally and fail in CI.
Screenshots (desktop and a 390 px phone) go to `test-artifacts/` at the repository root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import html5lib
import pytest
from conftest import GitRepo, isolated_git, make_repo, require, run_stagetag

from stagetag.events import isoformat
from stagetag.gitio import Stamp
from stagetag.presentation.cells import Cells, shown
from stagetag.presentation.dashboard import slug
from stagetag.presentation.markdown import cell

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_DIR = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
GITHUB = "https://github.com/acme/models"
XHTML = "{http://www.w3.org/1999/xhtml}"

# `site` and `browser` are module fixtures (git runs and Chromium's start are slow): build them
# on one xdist worker only.
pytestmark = pytest.mark.xdist_group("test_dashboard")

# A registration message a person typed by hand: table breaks, code spans and markup.
NASTY_MESSAGE = "retrained | a|b `rm -rf` <script>alert(1)</script> & <b>bold</b>"


def day(n: int) -> str:
    return f"2024-02-{n:02d}T00:00:00+0000"


def iso(n: int) -> str:
    return f"2024-02-{n:02d}T00:00:00+00:00"


# The registry, as (tag, commit index, day, message or "") in the order they were pushed.
# What it must show, worked out by hand from GTO's rules:
#   churn:          v1.0.0 < v1.1.0 < v1.2.0; prod -> v1.0.0, then v1.1.0, then unassigned from
#                   v1.1.0, so it falls back to v1.0.0; staging and dev -> v1.2.0.
#   nlp:sentiment:  a monorepo artifact (`nlp=sentiment` in tags); staging v0.2.0, prod v0.1.0.
#   legacy:         v2.0.0 in prod, then deprecated: hidden unless asked for.
TAGS = (
    ("churn@v1.0.0", 1, 1, "first churn model"),
    ("legacy@v2.0.0", 1, 1, ""),
    ("churn@v1.1.0", 2, 2, NASTY_MESSAGE),
    ("nlp=sentiment@v0.1.0", 2, 2, ""),
    ("churn@v1.2.0", 3, 3, "bob's retrain"),
    ("nlp=sentiment@v0.2.0", 3, 3, ""),
    ("churn#prod#1", 1, 4, ""),
    ("churn#prod#2", 2, 5, ""),
    ("churn#prod!#3", 2, 6, ""),
    ("churn#staging#4", 3, 7, ""),
    ("churn#dev#5", 3, 8, ""),
    ("nlp=sentiment#staging#1", 3, 9, ""),
    ("nlp=sentiment#prod#2", 2, 10, ""),
    ("legacy#prod#1", 1, 11, ""),
    ("legacy@deprecated", 3, 12, ""),
)
BOB = {"GIT_COMMITTER_NAME": "Bob Builder", "GIT_COMMITTER_EMAIL": "bob@example.com"}
TAGGED_BY_BOB = {"churn@v1.2.0"}

STAGES = ["dev", "prod", "staging"]  # the stages in use, sorted: the columns, in this order
EXPECTED_LATEST = {"churn": "v1.2.0", "nlp:sentiment": "v0.2.0", "legacy": "v2.0.0"}
EXPECTED_STAGES = {
    "churn": {"dev": "v1.2.0", "prod": "v1.0.0", "staging": "v1.2.0"},
    "nlp:sentiment": {"dev": None, "prod": "v0.1.0", "staging": "v0.2.0"},
}
# Annotations at HEAD: churn's description changed in the last commit; the first one is stale.
EXPECTED_NOTES = {
    "churn": ("model", "Predicts churn"),
    "nlp:sentiment": ("model", "Sentiment classifier"),
    "legacy": ("dataset", "Old features"),
}
# churn's history, newest first: (event, version, stage, tag).
CHURN_HISTORY = [
    ("assignment", "v1.2.0", "dev", "churn#dev#5"),
    ("assignment", "v1.2.0", "staging", "churn#staging#4"),
    ("unassignment", "v1.1.0", "prod", "churn#prod!#3"),
    ("assignment", "v1.1.0", "prod", "churn#prod#2"),
    ("assignment", "v1.0.0", "prod", "churn#prod#1"),
    ("registration", "v1.2.0", None, "churn@v1.2.0"),
    ("registration", "v1.1.0", None, "churn@v1.1.0"),
    ("registration", "v1.0.0", None, "churn@v1.0.0"),
]


def build_registry(path: Path, remote: str | None) -> tuple[GitRepo, list[str]]:
    """The registry above, with `dvc.yaml` / `artifacts.yaml` annotations; returns the commits."""
    repo = make_repo(path)
    (path / "artifacts.yaml").write_text(
        "churn:\n  type: model\n  description: stale description\n"
        "legacy:\n  type: dataset\n  description: Old features\n"
    )
    (path / "nlp").mkdir()
    (path / "nlp" / "dvc.yaml").write_text(
        "artifacts:\n  sentiment:\n    type: model\n    path: model.pkl\n"
        "    desc: Sentiment classifier\n"
    )
    commits = [""]  # 1-based, as in TAGS
    commits.append(repo.commit("c1", "2024-01-01T12:00:00+0000"))
    commits.append(repo.commit("c2", "2024-01-02T12:00:00+0000"))
    (path / "artifacts.yaml").write_text(
        (path / "artifacts.yaml").read_text().replace("stale description", "Predicts churn")
    )
    commits.append(repo.commit("c3", "2024-01-03T12:00:00+0000"))
    for tag, commit, when, message in TAGS:
        who = BOB if tag in TAGGED_BY_BOB else {}
        repo.git(
            "tag",
            "-a",
            tag,
            "-m",
            message or tag,
            "--cleanup=verbatim",
            commits[commit],
            env={"GIT_COMMITTER_DATE": day(when), **who},
        )
    if remote:
        repo.git("remote", "add", "origin", remote)
    return repo, commits


def stagetag(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_stagetag(*args, cwd=cwd, check=True)


class Site:
    def __init__(self, repo: GitRepo, commits: list[str], output: Path) -> None:
        self.repo, self.commits, self.output = repo, commits, output

    def page(self, name: str) -> Path:
        return self.output / "models" / f"{slug(name)}.html"


def render(tmp: Path, remote: str | None) -> Site:
    """Build the registry and run `stagetag dashboard -r REPO -o DIR` from another folder."""
    repo, commits = build_registry(tmp / "repo", remote)
    result = stagetag("dashboard", "-r", "repo", "-o", "site", cwd=tmp)
    assert result.stdout.strip() == "Wrote 4 pages to site"
    return Site(repo, commits, tmp / "site")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One GitHub-hosted registry and its site, shared by the module (git runs are slow)."""
    tmp = tmp_path_factory.mktemp("dashboard")
    with isolated_git(tmp / "home"):
        yield render(tmp, f"{GITHUB}.git")


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    require(
        not missing, f"{' and '.join(missing)} missing", "apt-get install chromium chromium-driver"
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="stagetag-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver: Any, page: Path) -> None:
    driver.get(page.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"


def text_of(element: Any) -> str:
    """The DOM text, whitespace-collapsed (also for elements hidden by a closed <details>)."""
    return " ".join((element.get_attribute("textContent") or "").split())


def models_table(driver: Any, table_id: str) -> dict[str, dict[str, Any]]:
    """Each row of a models table by artifact name: latest, stages, type, description."""
    from selenium.webdriver.common.by import By

    table = driver.find_element(By.ID, table_id)
    headers = [text_of(th) for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    assert headers == ["Model", "Latest", *STAGES, "Type", "Description"]
    rows = {}
    for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
        cells = [text_of(c) for c in tr.find_elements(By.CSS_SELECTOR, "th, td")]
        stages = {
            td.get_attribute("data-stage"): text_of(td)
            for td in tr.find_elements(By.CSS_SELECTOR, "td[data-stage]")
        }
        assert list(stages) == STAGES
        rows[tr.get_attribute("data-name")] = {
            "name": cells[0],
            "latest": cells[1],
            "stages": {s: None if v == "—" else v for s, v in stages.items()},
            "type": cells[-2],
            "description": cells[-1],
            "row": tr,
        }
    return rows


def visible_names(driver: Any) -> set[str]:
    from selenium.webdriver.common.by import By

    rows = driver.find_elements(By.CSS_SELECTOR, "table.models tbody tr")
    return {tr.get_attribute("data-name") for tr in rows if tr.is_displayed()}


def screenshot(driver: Any, page: Path, name: str) -> None:
    """Desktop and 390 px phone screenshots; on the phone the page itself must not scroll
    sideways (wide tables scroll inside their own box)."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    open_page(driver, page)
    driver.save_screenshot(str(ARTIFACTS_DIR / f"dashboard-{name}-desktop.png"))
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
    )
    try:
        open_page(driver, page)
        assert driver.execute_script("return window.innerWidth") == 390
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name}: the page scrolls sideways by {overflow}px on a phone"
        driver.save_screenshot(str(ARTIFACTS_DIR / f"dashboard-{name}-phone.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_models_page_shows_each_stage_holder(site: Site, browser: Any) -> None:
    open_page(browser, site.output / "index.html")
    assert browser.title == "Models"
    active = models_table(browser, "active-models")
    assert list(active) == sorted(EXPECTED_STAGES)
    for name, row in active.items():
        assert row["name"] == name
        assert row["latest"] == EXPECTED_LATEST[name]
        assert row["stages"] == EXPECTED_STAGES[name]
        assert (row["type"], row["description"]) == EXPECTED_NOTES[name]
    # Cross-check with `show --json`, the state the pages are rendered from.
    shown = json.loads(stagetag("show", "--json", cwd=site.repo.path).stdout)
    assert {name: entry["stage"] for name, entry in shown.items()} == EXPECTED_STAGES
    assert {name: entry["version"] for name, entry in shown.items()} == {
        name: EXPECTED_LATEST[name] for name in EXPECTED_STAGES
    }
    # The model link leads to the model's page.
    from selenium.webdriver.common.by import By

    link = active["nlp:sentiment"]["row"].find_element(By.CSS_SELECTOR, "th a")
    assert link.get_attribute("href") == site.page("nlp:sentiment").as_uri()
    screenshot(browser, site.output / "index.html", "models")


def test_deprecated_models_sit_in_a_collapsed_toggle(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, site.output / "index.html")
    toggle = browser.find_element(By.CSS_SELECTOR, "details#deprecated")
    assert toggle.get_attribute("open") is None
    assert text_of(toggle.find_element(By.TAG_NAME, "summary")) == "Deprecated models (1)"
    deprecated = models_table(browser, "deprecated-models")
    assert list(deprecated) == ["legacy"]
    assert deprecated["legacy"]["latest"] == EXPECTED_LATEST["legacy"]
    assert (deprecated["legacy"]["type"], deprecated["legacy"]["description"]) == (
        EXPECTED_NOTES["legacy"]
    )
    shown = json.loads(stagetag("show", "--json", "-d", cwd=site.repo.path).stdout)
    assert deprecated["legacy"]["stages"] == shown["legacy"]["stage"]
    assert not deprecated["legacy"]["row"].is_displayed()
    assert visible_names(browser) == set(EXPECTED_STAGES)
    toggle.find_element(By.TAG_NAME, "summary").click()
    assert toggle.get_attribute("open") is not None
    assert visible_names(browser) == {*EXPECTED_STAGES, "legacy"}


def test_filter_box_hides_rows_that_do_not_match(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, site.output / "index.html")
    box = browser.find_element(By.ID, "filter")
    label = browser.find_element(By.CSS_SELECTOR, "label[for=filter]")
    assert text_of(label) == "Filter models"
    box.send_keys("sentiment")
    assert visible_names(browser) == {"nlp:sentiment"}
    box.clear()
    box.send_keys("V1.0.0")  # case-insensitive; matches churn's prod holder
    assert visible_names(browser) == {"churn"}
    box.clear()
    box.send_keys("model predicts")  # every word must match: here the type and description
    assert visible_names(browser) == {"churn"}
    box.clear()
    box.send_keys("legacy")  # a deprecated match opens the toggle
    assert browser.find_element(By.ID, "deprecated").get_attribute("open") is not None
    assert visible_names(browser) == {"legacy"}
    box.clear()
    box.send_keys("no such model")
    assert visible_names(browser) == set()
    box.send_keys("\b" * len("no such model"))
    assert visible_names(browser) == {*EXPECTED_STAGES, "legacy"}


def test_filter_by_stage_name_keeps_models_holding_it(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, site.output / "index.html")
    assert "stage" in browser.find_element(By.ID, "filter").get_attribute("placeholder")
    browser.find_element(By.ID, "filter").send_keys("dev")
    assert visible_names(browser) == {"churn"}


def test_model_page_versions_stages_and_history(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    c = site.commits
    open_page(browser, site.page("churn"))
    assert text_of(browser.find_element(By.TAG_NAME, "h1")) == "churn"
    stages = {
        text_of(tr.find_element(By.TAG_NAME, "th")): text_of(tr.find_element(By.TAG_NAME, "td"))
        for tr in browser.find_elements(By.CSS_SELECTOR, "#stages tbody tr")
    }
    assert stages == EXPECTED_STAGES["churn"]

    versions = browser.find_elements(By.CSS_SELECTOR, "#versions tbody tr")
    rows = [[text_of(td) for td in tr.find_elements(By.CSS_SELECTOR, "th, td")] for tr in versions]
    assert [r[0] for r in rows] == ["v1.2.0", "v1.1.0", "v1.0.0"]  # newest first
    assert [set(filter(None, r[1].split(", "))) for r in rows] == [
        {"staging", "dev"},
        set(),
        {"prod"},
    ]
    assert [r[3] for r in rows] == ["Bob Builder", "Alice Tester", "Alice Tester"]
    assert [r[4] for r in rows] == [iso(n).replace("T", " ") for n in (3, 2, 1)]
    assert [r[5] for r in rows] == ["bob's retrain", NASTY_MESSAGE, "first churn model"]
    links = [tr.find_element(By.CSS_SELECTOR, "td code a") for tr in versions]
    assert [a.get_attribute("href") for a in links] == [
        f"{GITHUB}/commit/{c[3]}",
        f"{GITHUB}/commit/{c[2]}",
        f"{GITHUB}/commit/{c[1]}",
    ]
    assert [text_of(a) for a in links] == [c[3][:7], c[2][:7], c[1][:7]]
    times = [tr.find_element(By.TAG_NAME, "time") for tr in versions]
    assert [t.get_attribute("datetime") for t in times] == [iso(3), iso(2), iso(1)]
    # The hand-typed message is text, not markup.
    assert browser.find_elements(By.CSS_SELECTOR, "#versions script, #versions b") == []

    events = browser.find_elements(By.CSS_SELECTOR, "#history > li")
    seen = []
    for li in events:
        stage = li.find_elements(By.CSS_SELECTOR, "span.stage")
        seen.append(
            (
                text_of(li.find_element(By.CSS_SELECTOR, ".what")),
                text_of(li.find_element(By.CSS_SELECTOR, ".version")),
                text_of(stage[0]) if stage else None,
                text_of(li.find_element(By.CSS_SELECTOR, ".ref")),
            )
        )
    assert seen == CHURN_HISTORY
    assert [li.get_attribute("class").split()[-1] for li in events] == [e[0] for e in seen]
    tag_links = [li.find_element(By.CSS_SELECTOR, ".ref a").get_attribute("href") for li in events]
    assert tag_links == [f"{GITHUB}/releases/tag/{quote(e[3], safe='')}" for e in CHURN_HISTORY]
    history = json.loads(stagetag("history", "churn", "--json", cwd=site.repo.path).stdout)
    assert [(r["event"], r["version"], r["stage"], r["ref"]) for r in history] == CHURN_HISTORY
    screenshot(browser, site.page("churn"), "model")


def test_monorepo_and_deprecated_model_pages(site: Site, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, site.page("nlp:sentiment"))
    assert text_of(browser.find_element(By.TAG_NAME, "h1")) == "nlp:sentiment"
    body = text_of(browser.find_element(By.TAG_NAME, "main"))
    assert "Sentiment classifier" in body and "Type: model" in body
    versions = browser.find_elements(By.CSS_SELECTOR, "#versions tbody th")
    assert [text_of(th) for th in versions] == ["v0.2.0", "v0.1.0"]
    refs = [text_of(e) for e in browser.find_elements(By.CSS_SELECTOR, "#history .ref")]
    assert refs == [
        "nlp=sentiment#prod#2",
        "nlp=sentiment#staging#1",
        "nlp=sentiment@v0.2.0",
        "nlp=sentiment@v0.1.0",
    ]

    open_page(browser, site.page("legacy"))
    assert text_of(browser.find_element(By.TAG_NAME, "h1")) == "legacy deprecated"
    refs = [text_of(e) for e in browser.find_elements(By.CSS_SELECTOR, "#history .ref")]
    assert refs == ["legacy@deprecated", "legacy#prod#1", "legacy@v2.0.0"]


# --- the files ---------------------------------------------------------------------------------


def output_files(output: Path) -> list[Path]:
    return sorted(p for p in output.rglob("*") if p.is_file())


def test_site_files_are_the_pages_and_their_assets(site: Site) -> None:
    names = {p.relative_to(site.output).as_posix() for p in output_files(site.output)}
    assert names == {
        "index.html",
        "dashboard.css",
        "dashboard.js",
        *(f"models/{slug(n)}.html" for n in EXPECTED_LATEST),
    }


def test_every_page_is_valid_html(site: Site) -> None:
    for page in site.output.rglob("*.html"):
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
        document = parser.parse(page.read_bytes())
        assert parser.errors == [], (page.name, parser.errors)
        assert document.find(f"{XHTML}head/{XHTML}title") is not None
        assert document.get("lang") == "en"


def test_no_local_path_and_nothing_from_the_network(site: Site) -> None:
    local = [str(site.repo.path), str(site.output), str(site.output.parent), "/tmp", "file://"]
    for file in output_files(site.output):
        text = file.read_text()
        for needle in local:
            assert needle not in text, f"{file.name} holds {needle!r}"
        # Scripts and styles are the site's own, by relative URL: no CDN.
        for url in re.findall(r'(?:src|href)="([^"]*)"', text):
            assert not url.startswith(("/", "//")), (file.name, url)
            if url.startswith(("http:", "https:")):
                assert url.startswith(f"{GITHUB}/"), (file.name, url)


def links_of(page: Path) -> list[str]:
    document = html5lib.parse(page.read_bytes())
    return [a.get("href") for a in document.iter(f"{XHTML}a")]


def test_gitlab_remote_links_to_gitlab(tmp_path: Path) -> None:
    site = render(tmp_path, "git@gitlab.example.com:acme/ml/models.git")
    sha = site.commits[3]
    links = links_of(site.page("churn"))
    base = "https://gitlab.example.com/acme/ml/models"
    assert f"{base}/-/commit/{sha}" in links
    assert f"{base}/-/tags/{quote('churn#prod!#3', safe='')}" in links
    assert not any("github.com" in link for link in links)


def test_local_remote_gives_no_links(tmp_path: Path) -> None:
    upstream = tmp_path / "upstream.git"
    subprocess.run(["git", "init", "-q", "--bare", str(upstream)], check=True)
    site = render(tmp_path, str(upstream))
    for page in site.output.rglob("*.html"):
        for link in links_of(page):
            assert not re.match(r"^[a-z]+:", link), (page.name, link)
    for file in output_files(site.output):
        assert str(upstream) not in file.read_text()


# --- Markdown ----------------------------------------------------------------------------------


def markdown_table(text: str) -> list[list[str]]:
    """Rows of a Markdown table, split on unescaped pipes; the delimiter row is dropped."""
    rows = []
    for line in text.splitlines():
        assert (line.startswith("| ") and line.endswith(" |")) or line.startswith("|---"), line
        if line.startswith("|---"):
            continue
        cells = re.split(r"(?<!\\)\|", line.strip()[1:-1])
        rows.append([c.strip() for c in cells])
    assert len({len(r) for r in rows}) == 1, text
    return rows


def test_markdown_cell_is_inert() -> None:
    escaped = cell(NASTY_MESSAGE)
    assert re.search(r"(?<!\\)[|`]", escaped) is None
    assert "<" not in escaped and ">" not in escaped
    assert escaped == (
        "retrained \\| a\\|b \\`rm -rf\\` &lt;script&gt;alert(1)&lt;/script&gt; "
        "&amp; &lt;b&gt;bold&lt;/b&gt;"
    )
    assert cell("two\nlines") == "two lines"
    assert cell(None) == cell("") == "—"


def test_show_md_matches_show_json(site: Site) -> None:
    shown = json.loads(stagetag("show", "--json", cwd=site.repo.path).stdout)
    header, *rows = markdown_table(stagetag("show", "--md", cwd=site.repo.path).stdout)
    assert header == ["artifact", "latest", *STAGES]
    assert [r[0] for r in rows] == sorted(shown)
    for name, latest, *holders in rows:
        assert latest == shown[name]["version"]
        expected = [shown[name]["stage"][s] or "—" for s in STAGES]
        assert holders == expected

    versions = markdown_table(stagetag("show", "churn", "--md", cwd=site.repo.path).stdout)
    assert versions[0] == ["version", "stages", "created", "ref"]
    assert [r[0] for r in versions[1:]] == ["v1.2.0", "v1.1.0", "v1.0.0"]
    assert [r[3] for r in versions[1:]] == ["churn@v1.2.0", "churn@v1.1.0", "churn@v1.0.0"]


def test_history_md_matches_history_json(site: Site) -> None:
    records = json.loads(stagetag("history", "--json", cwd=site.repo.path).stdout)
    header, *rows = markdown_table(stagetag("history", "--md", cwd=site.repo.path).stdout)
    assert header == ["timestamp", "artifact", "event", "version", "stage", "ref"]
    assert len(rows) == len(records) == len(TAGS)
    for row, record in zip(rows, records, strict=True):
        expected = [record[k] for k in header]
        assert row == [cell(v) for v in expected]
    churn = markdown_table(stagetag("history", "churn", "--md", cwd=site.repo.path).stdout)
    assert [tuple(r[2:]) for r in churn[1:]] == [
        (e, v, s or "—", ref) for e, v, s, ref in CHURN_HISTORY
    ]
    # The hand-typed message never reaches a table, so it cannot break one.
    assert "script" not in stagetag("history", "--md", cwd=site.repo.path).stdout


def test_empty_registry_markdown(repo: GitRepo) -> None:
    repo.commit("c1")
    assert stagetag("show", "--md", cwd=repo.path).stdout == "_Nothing found._\n"
    assert stagetag("history", "--md", cwd=repo.path).stdout == "_Nothing found._\n"


def test_show_md_with_json_is_refused(site: Site) -> None:
    result = subprocess.run(
        ["stagetag", "show", "--md", "--json"], cwd=site.repo.path, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "--json" in result.stderr and "--md" in result.stderr


# --- hosting links -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remote", "commit_url"),
    [
        ("https://github.com/acme/models.git", f"{GITHUB}/commit/abc"),
        ("https://github.com/acme/models", f"{GITHUB}/commit/abc"),
        ("git@github.com:acme/models.git", f"{GITHUB}/commit/abc"),
        ("ssh://git@github.com/acme/models.git", f"{GITHUB}/commit/abc"),
        ("https://x-access-token:secret@github.com/acme/models.git", f"{GITHUB}/commit/abc"),
        (
            "https://gitlab.com/group/sub/models.git",
            "https://gitlab.com/group/sub/models/-/commit/abc",
        ),
        ("/srv/git/models.git", None),
        ("file:///srv/git/models.git", None),
        ("https://example.com/acme/models.git", None),
        (None, None),
    ],
)
def test_hosting_links(remote: str | None, commit_url: str | None) -> None:
    from stagetag.hosting import hosting_for

    hosting = hosting_for(remote)
    assert (hosting.commit_url("abc") if hosting else None) == commit_url
    if hosting:
        assert "secret" not in hosting.base


@pytest.mark.parametrize(
    "text",
    [
        "[release notes](javascript:alert(1))",
        "![](https://tracker.example/pixel.png?who=me)",
        "see https://evil.example/ and **bold** ~~gone~~",
        "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",
    ],
)
def test_markdown_cells_carry_no_links_images_or_escapes(text: str) -> None:
    """Tag data in a job summary: no link, image, emphasis or terminal escape survives."""
    escaped = cell(text)
    assert escaped.isprintable()
    assert re.search(r"(?<!\\)[\[\]*~`]", escaped) is None
    assert "://" not in escaped


@pytest.mark.parametrize("offset", [0, 330, -420, -30, 840, -720])
def test_pages_write_times_as_json_does(offset: int) -> None:
    for epoch in (-86400, 0, 59, 951782400, 1700000000, 4102444799):
        stamp = Stamp(epoch, offset)
        iso = isoformat(stamp)
        assert shown(stamp) == iso.replace("T", " ")
        assert Cells(None).time(stamp) == f'<time datetime="{iso}">{shown(stamp)}</time>'
