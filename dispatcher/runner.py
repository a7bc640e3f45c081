"""`dispatch --run`: run the planned commands here, in order, for CI systems without
dynamic jobs. Output streams as it comes; the exit status accounts for every job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import NamedTuple

from stagetag.dispatcher.plan import Job
from stagetag.dispatcher.targets import job_variables


class JobResult(NamedTuple):
    job: Job
    status: str  # ok, failed (exit N) or timed out


def run_jobs(jobs: list[Job], workdir: str) -> list[JobResult]:
    results = []
    for job in jobs:
        print(f"== {job.title}", flush=True)
        env = {**os.environ, **job_variables(job)}
        # A session of its own, so that a timeout stops the command and everything it started.
        try:
            process = subprocess.Popen(
                ["bash", "-c", job.command], cwd=workdir, env=env, start_new_session=True
            )
        except OSError as e:  # E2BIG: the command and its variables passed the kernel's limit
            print(f"== {job.title}: could not start: {e.strerror}", file=sys.stderr, flush=True)
            results.append(JobResult(job, f"could not start ({e.strerror})"))
            continue
        try:
            code = process.wait(timeout=job.timeout)
            status = "ok" if code == 0 else f"failed (exit {code})"
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            status = f"timed out after {job.timeout} s"
        print(
            f"== {job.title}: {status}",
            file=sys.stderr if status != "ok" else sys.stdout,
            flush=True,
        )
        results.append(JobResult(job, status))
    return results
