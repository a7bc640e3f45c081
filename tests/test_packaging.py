"""The wheel and the sdist, built as a release builds them and installed into fresh virtual
envs (not editable), do everything the dev checkout does.

The rest of the suite runs stagetag from an editable install, which sees the source tree: a
template left out of the package data, a module outside the `stagetag` package or a
`stagetag/entrypoint` link the build does not follow would only break for users. Here each
command runs from the installed `stagetag` script on a scratch repository with a bare remote.
Built once per session (a lock makes xdist workers share it), from a copy of the tracked files
so that the build leaves nothing in the work tree.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import GitRepo, make_repo, once, read_github_output, run_stagetag

pytestmark = pytest.mark.xdist_group("test_packaging")

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
VERSION: str = PROJECT["version"]
DIST_INFO = f"stagetag-{VERSION}.dist-info"


def copy_tracked_tree(dest: Path) -> None:
    """The files git tracks, as they are in the work tree (links stay links)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source, target = ROOT / name, dest / name
        if not source.is_symlink() and not source.exists():
            continue  # deleted in the work tree, not yet committed
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)


def run(*args: str | Path, cwd: Path | None = None, timeout: float = 600) -> str:
    result = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{args}\n{result.stdout}{result.stderr}"
    return result.stdout


@dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path


@pytest.fixture(scope="session")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """`python -m build`: the sdist, then the wheel built from that sdist (as release.yml)."""

    def build(folder: Path) -> None:
        copy_tracked_tree(folder / "src")
        run(sys.executable, "-m", "build", "--outdir", folder / "dist", folder / "src")

    folder = once(tmp_path_factory, "stagetag-dists", build)
    return Dists(
        folder / "dist" / f"stagetag-{VERSION}-py3-none-any.whl",
        folder / "dist" / f"stagetag-{VERSION}.tar.gz",
    )


@dataclass(frozen=True)
class Venv:
    kind: str  # wheel or sdist
    path: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    @property
    def stagetag(self) -> Path:
        return self.path / "bin" / "stagetag"

    def site_packages(self) -> Path:
        out = run(self.python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
        return Path(out.strip())


@pytest.fixture(scope="session", params=["wheel", "sdist"])
def venv(
    request: pytest.FixtureRequest, dists: Dists, tmp_path_factory: pytest.TempPathFactory
) -> Venv:
    """A fresh virtual env with the wheel, or the sdist (which pip builds), installed."""
    kind: str = request.param
    archive = dists.wheel if kind == "wheel" else dists.sdist

    def install(folder: Path) -> None:
        run(sys.executable, "-m", "venv", folder / "env")
        pip = folder / "env" / "bin" / "pip"
        run(pip, "install", "-q", "--disable-pip-version-check", archive)

    folder = once(tmp_path_factory, f"stagetag-venv-{kind}", install)
    return Venv(kind, folder / "env")


def top_level(record: str) -> set[str]:
    """The first path parts of a RECORD's entries (scripts, outside site-packages, skipped)."""
    paths = [line.rsplit(",", 2)[0] for line in record.splitlines() if line]
    return {path.split("/")[0] for path in paths if not path.startswith("..")}


def test_the_wheel_holds_only_the_stagetag_package_and_its_templates(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        record = wheel.read(f"{DIST_INFO}/RECORD").decode()
        entry_points = wheel.read(f"{DIST_INFO}/entry_points.txt").decode()
    assert top_level(record) == {"stagetag", DIST_INFO}
    files = {line.rsplit(",", 2)[0] for line in record.splitlines()}
    templates = {
        "stagetag/presentation/templates/index.html.j2",
        "stagetag/presentation/templates/dashboard.css",
        "stagetag/dispatcher/templates/github-matrix.json.j2",
        "stagetag/dispatcher/templates/gitlab-pipeline.yml.j2",
        "stagetag/dispatcher/templates/script.sh.j2",
        "stagetag/dispatcher/templates/plan.json.j2",
    }
    # package data and the module the console script runs, found through no link
    package_files = {*templates, "stagetag/py.typed", "stagetag/entrypoint/cli.py"}
    assert package_files <= files
    assert "stagetag = stagetag.entrypoint.cli:main" in entry_points


def test_an_install_adds_only_the_stagetag_package(venv: Venv, tmp_path: Path) -> None:
    site = venv.site_packages()
    record = (site / DIST_INFO / "RECORD").read_text()
    assert top_level(record) == {"stagetag", DIST_INFO}
    assert not (site / "entrypoint").exists() and not (site / "dispatcher").exists()
    assert (site / "stagetag" / "entrypoint").is_dir()
    assert not (site / "stagetag" / "entrypoint").is_symlink()
    # from a folder of its own, so that no source tree is importable by accident
    names = ("entrypoint", "dispatcher", "stagetag.dispatcher.plan")
    probe = f"import importlib.util as u; print([bool(u.find_spec(n)) for n in {names!r}])"
    assert run(venv.python, "-c", probe, cwd=tmp_path).strip() == "[False, False, True]"
    assert run(venv.stagetag, "--version", cwd=tmp_path) == f"stagetag, version {VERSION}\n"


# --- a scratch registry ---------------------------------------------------------------------

STAGETAG_YAML = """\
deploy:
  defaults:
    timeout: 120
  stages:
    dev:
      environment: development
      deploy: echo "{{ name }} {{ version }} $STAGETAG_TAG" > "deployed-{{ stage }}.txt"
"""


@dataclass
class Scratch:
    """A repository with a bare remote as `origin`, and the installed stagetag to run in it."""

    repo: GitRepo
    remote: Path
    venv: Venv

    def stagetag(self, *args: str, env: dict[str, str] | None = None) -> str:
        return run_stagetag(
            *args, cwd=self.repo.path, env=env, executable=self.venv.stagetag, check=True
        ).stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.stagetag(*args))

    def remote_tags(self) -> set[str]:
        return set(GitRepo(self.remote).git("tag", "--list").split())


@pytest.fixture
def scratch(tmp_path: Path, venv: Venv) -> Scratch:
    """Two commits on main, pushed; nothing registered yet."""
    remote = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    repo = make_repo(tmp_path / "work")
    (repo.path / ".gto").write_text("stages: [dev, staging, prod]\n")
    (repo.path / "stagetag.yaml").write_text(STAGETAG_YAML)
    (repo.path / "artifacts.yaml").write_text("churn:\n  type: model\n  path: model.pkl\n")
    repo.commit("c1")
    repo.git("remote", "add", "origin", str(remote))
    repo.git("push", "-q", "origin", "main")
    return Scratch(repo, remote, venv)


@pytest.fixture
def registry(scratch: Scratch) -> Scratch:
    """churn v1.0.0 (in dev, then also in prod) and v1.1.0, tagged with fixed dates."""
    first = scratch.repo.git("rev-parse", "HEAD")
    second = scratch.repo.commit("c2", "2024-01-02T12:00:00+0000")
    repo = scratch.repo
    repo.tag("churn@v1.0.0", first, "2024-01-01T12:00:00+0000", "first")
    repo.tag("churn#dev#1", first, "2024-01-01T13:00:00+0000", "to dev")
    repo.tag("churn@v1.1.0", second, "2024-01-02T12:00:00+0000", "second")
    repo.tag("churn#prod#2", first, "2024-01-03T12:00:00+0000", "to prod")
    repo.git("push", "-q", "origin", "--tags")
    return scratch


def test_read_commands(registry: Scratch) -> None:
    show = registry.json("show", "--json")
    assert show == {
        "churn": {
            "version": "v1.1.0",
            "stage": {"dev": "v1.0.0", "staging": None, "prod": "v1.0.0"},
            "registered": True,
            "active": True,
        }
    }
    table = registry.stagetag("show").splitlines()
    assert table[0].split() == ["name", "latest", "#dev", "#staging", "#prod"]
    assert table[2].split() == ["churn", "v1.1.0", "v1.0.0", "-", "v1.0.0"]
    assert "| churn | v1.1.0 | v1.0.0 | — | v1.0.0 |" in registry.stagetag("show", "--md")
    assert registry.stagetag("show", "churn#prod", "--version") == "v1.0.0\n"
    history = registry.json("history", "churn", "--json")
    assert [event["ref"] for event in history] == [
        "churn#prod#2",
        "churn@v1.1.0",
        "churn#dev#1",
        "churn@v1.0.0",
    ]
    check = registry.json("check-ref", "refs/tags/churn#prod#2", "--json")
    assert (check["event"], check["version"], check["stage"]) == ("assignment", "v1.0.0", "prod")
    assert registry.stagetag("stages") == "dev\nstaging\nprod\n"


def test_write_commands_push_the_tags(scratch: Scratch) -> None:
    def pushed(*args: str) -> list[str]:
        """Run a write command with --push; return the tags it added to the remote."""
        before = scratch.remote_tags()
        record = scratch.json(*args, "--push", "--json")
        assert record["pushed"] is True, record
        added = scratch.remote_tags() - before
        assert added == set(record["tags"]), record
        return sorted(added)

    def holders() -> dict[str, str | None]:
        stages: dict[str, str | None] = scratch.json("show", "--json")["churn"]["stage"]
        return stages

    assert pushed("register", "churn", "--version", "v1.0.0") == ["churn@v1.0.0"]
    assert pushed("assign", "churn", "--version", "v1.0.0", "--stage", "dev") == ["churn#dev#1"]
    scratch.repo.commit("c2")
    scratch.repo.git("push", "-q", "origin", "main")
    assert pushed("register", "churn", "--bump-minor") == ["churn@v1.1.0"]
    assert pushed("promote", "churn", "--stage", "dev") == ["churn#dev#2"]
    assert holders()["dev"] == "v1.1.0"
    # the holder is unassigned, so GTO falls back to the previous one
    assert pushed("rollback", "churn", "--stage", "dev") == ["churn#dev!#3"]
    assert holders()["dev"] == "v1.0.0"
    assert pushed("unassign", "churn", "v1.0.0", "--stage", "dev") == ["churn#dev!#4"]
    assert holders()["dev"] is None
    assert pushed("deregister", "churn", "v1.1.0") == ["churn@v1.1.0!"]
    assert pushed("deprecate", "churn") == ["churn@deprecated"]
    assert scratch.json("show", "--json") == {}  # deprecated artifacts are hidden
    assert scratch.json("show", "--json", "-d")["churn"]["active"] is False


@pytest.mark.parametrize("output", ["github", "gitlab", "script", "json"])
def test_dispatch_renders_every_format(registry: Scratch, output: str) -> None:
    registry.repo.tag(
        "churn#dev#3", registry.repo.git("rev-parse", "HEAD"), "2024-01-04T00:00:00+0000"
    )
    text = registry.stagetag("dispatch", "churn#dev#3", "--format", output, "-o", "jobs.out")
    assert text == ""
    rendered = (registry.repo.path / "jobs.out").read_text()
    command = 'echo "churn v1.1.0 $STAGETAG_TAG" > "deployed-dev.txt"'
    if output == "github":
        [job] = json.loads(rendered)["include"]
        assert (job["version"], job["environment"], job["command"]) == (
            "v1.1.0",
            "development",
            command,
        )
        assert job["timeout_minutes"] == 2 and job["type"] == "model"
    elif output == "gitlab":
        job = yaml.safe_load(rendered)["deploy churn dev"]
        assert job["script"] == [command] and job["environment"]["name"] == "development"
    elif output == "json":
        [job] = json.loads(rendered)["jobs"]
        assert job["command"] == command and job["path"] == "model.pkl"
    else:
        assert rendered.startswith("#!/usr/bin/env bash\n") and f"\n{command}\n" in rendered
    assert not (registry.repo.path / "deployed-dev.txt").exists()


def test_dispatch_run_runs_the_deploy_command(registry: Scratch) -> None:
    out = registry.stagetag("dispatch", "--run", env={"CI_COMMIT_TAG": "churn#dev#1"})
    assert out.endswith("stagetag: 1 of 1 jobs succeeded\n")
    deployed = (registry.repo.path / "deployed-dev.txt").read_text()
    assert deployed == "churn v1.0.0 churn#dev#1\n"


def test_dashboard_writes_the_site(registry: Scratch, tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert registry.stagetag("dashboard", "-o", str(site)) == f"Wrote 2 pages to {site}\n"
    [page] = (site / "models").glob("churn-*.html")
    assert "v1.1.0" in page.read_text() and "churn#prod#2" in page.read_text()
    assert (site / "dashboard.css").read_text() == (
        ROOT / "stagetag" / "presentation" / "templates" / "dashboard.css"
    ).read_text()


def test_action_assigns_and_reports_as_on_github(registry: Scratch, tmp_path: Path) -> None:
    output, summary = tmp_path / "output", tmp_path / "summary"
    output.touch()
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(registry.repo.path),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTOR": "octocat",
        "INPUT_COMMAND": "assign",
        "INPUT_NAME": "churn",
        "INPUT_VERSION": "v1.1.0",
        "INPUT_STAGE": "staging",
        "INPUT_PUSH": "true",
        "INPUT_TOKEN": "",
    }
    registry.stagetag("action", env=env)
    outputs = read_github_output(output)
    assert (outputs["tag"], outputs["pushed"], outputs["version"]) == (
        "churn#staging#3",
        "true",
        "v1.1.0",
    )
    assert "churn#staging#3" in registry.remote_tags()
    assert "`churn#staging#3`" in summary.read_text()
    assert registry.stagetag("show", "churn#staging", "--version") == "v1.1.0\n"
