"""`artifacts.yaml` values gto reads and stagetag used to drop (labels and types with spaces,
HTML, pipes, newlines, emoji; issue 10): every place that shows them escapes them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import html5lib
from conftest import GitRepo, run_stagetag

HOSTILE = "<script>alert(1)</script> | pipe\nnew line 🚀 & \"quotes\" 'single'"
INDEX = (
    "churn:\n"
    f"  type: {json.dumps('deep <b>learning</b>', ensure_ascii=False)}\n"
    f"  labels: [{json.dumps(HOSTILE, ensure_ascii=False)}, with space, '']\n"
    f"  description: {json.dumps(HOSTILE, ensure_ascii=False)}\n"
    "  path: models/churn.pkl\n"
)


def _registry(repo: GitRepo) -> None:
    (repo.path / "artifacts.yaml").write_text(INDEX, encoding="utf-8")
    c1 = repo.commit("c1", "2024-01-01T12:00:00+0000")
    repo.tag("churn@v1.0.0", c1, "2024-01-02T00:00:00+0000", "Registering")
    repo.tag("churn#prod#1", c1, "2024-01-03T00:00:00+0000", HOSTILE)


def test_annotations_with_any_label_are_read(repo: GitRepo) -> None:
    _registry(repo)
    result = run_stagetag("show", "churn", "-d", "--json", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    assert "not valid" not in result.stderr
    artifact = json.loads(result.stdout)[0]["enrichments"][0]["enrichments"][0]["artifact"]
    assert artifact["labels"] == [HOSTILE, "with space", ""]
    assert artifact["description"] == HOSTILE


def test_dashboard_escapes_annotations(repo: GitRepo, tmp_path: Path) -> None:
    _registry(repo)
    site = tmp_path / "site"
    result = run_stagetag("dashboard", "-o", str(site), cwd=repo.path)
    assert result.returncode == 0, result.stderr
    pages = {page.name: page.read_text(encoding="utf-8") for page in site.rglob("*.html")}
    assert pages
    for name, text in pages.items():
        assert "alert(1)</script>" not in text, name
        assert "<b>learning" not in text, name
        html5lib.HTMLParser(strict=True).parse(text)  # still well-formed
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in text for text in pages.values())


def test_dispatch_passes_annotations_as_literal_arguments(repo: GitRepo) -> None:
    (repo.path / "stagetag.yaml").write_text(
        "deploy:\n  stages:\n    prod:\n"
        "      deploy: printf '%s\\0' {{ description }} {{ labels }} {{ type }}\n"
    )
    _registry(repo)
    result = run_stagetag("dispatch", "--format", "json", "refs/tags/churn#prod#1", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    command = json.loads(result.stdout)["jobs"][0]["command"]
    ran = subprocess.run(["bash", "-c", command], capture_output=True, check=True)
    args = ran.stdout.decode().split("\0")[:-1]
    assert args == [HOSTILE, HOSTILE, "with space", "", "deep <b>learning</b>"]
