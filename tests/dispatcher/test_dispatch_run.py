"""`dispatch --run`: every planned job runs in order, output streams as it comes, a failing or
timed-out job makes the exit status 1 without stopping the others."""

from __future__ import annotations

import subprocess
import time

from conftest import GitRepo, clean_environ
from deploy_recorder import add_recorder, records
from dispatch_helpers import executable, stagetag, write

CONFIG = """\
deploy:
  stages:
    fail:
      deploy: echo failing; exit 3
    slow:
      deploy: echo slow-start; sleep 30 & sleep 30; echo never
      timeout: 1
    good:
      deploy: ./rec.py {{ stage }} {{ version }}
"""


def test_failing_and_timed_out_jobs_fail_the_run_but_not_the_others(repo: GitRepo) -> None:
    write(repo.path / "stagetag.yaml", CONFIG)
    add_recorder(repo.path / "rec.py")
    sha = repo.commit("c1")
    repo.tag("r@v1.0.0", sha, "2024-02-01T00:00:00+0000")
    for i, stage in enumerate(("fail", "slow", "good"), start=1):
        repo.tag(f"r#{stage}#{i}", sha, f"2024-02-0{i + 1}T00:00:00+0000")

    started = time.monotonic()
    process = subprocess.Popen(
        [executable("stagetag"), "dispatch", "--run", "r#fail#1", "r#slow#2", "r#good#3"],
        cwd=repo.path,
        env=clean_environ(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("slow-start"):
            break
    # streamed: the slow job's first line arrives while it is still running
    assert process.poll() is None
    out, err = process.communicate(timeout=20)
    elapsed = time.monotonic() - started
    stdout = "".join(seen) + out

    assert process.returncode == 3  # a deploy job failed
    assert elapsed < 15  # the timeout stopped `sleep 30` and its background sibling
    assert stdout.index("== deploy r v1.0.0 to fail (fail)") < stdout.index("failing")
    assert stdout.index("failing") < stdout.index("slow-start")
    assert "never" not in stdout
    assert "== deploy r v1.0.0 to good (good): ok" in stdout
    assert "1 of 3 jobs succeeded" in stdout
    assert "== deploy r v1.0.0 to fail (fail): failed (exit 3)" in err
    assert "== deploy r v1.0.0 to slow (slow): timed out after 1 s" in err
    assert [r["argv"] for r in records(repo.path / "records.jsonl")] == [["good", "v1.0.0"]]


def test_all_jobs_ok_exits_zero(repo: GitRepo) -> None:
    write(repo.path / "stagetag.yaml", CONFIG)
    add_recorder(repo.path / "rec.py")
    sha = repo.commit("c1")
    repo.tag("r@v1.0.0", sha, "2024-02-01T00:00:00+0000")
    repo.tag("r#good#1", sha, "2024-02-02T00:00:00+0000")
    result = stagetag("dispatch", "--run", "r#good#1", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("stagetag: 1 of 1 jobs succeeded\n")
    assert [r["argv"] for r in records(repo.path / "records.jsonl")] == [["good", "v1.0.0"]]
