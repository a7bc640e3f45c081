"""Shared fixtures: real git repositories in temporary folders, with a pinned identity."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# A loaded 2-core CI machine makes example generation slow, which is not a failure.
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("ci" if os.environ.get("CI") else "default")

IDENTITY = {
    "GIT_AUTHOR_NAME": "Alice Tester",
    "GIT_AUTHOR_EMAIL": "alice@example.com",
    "GIT_COMMITTER_NAME": "Alice Tester",
    "GIT_COMMITTER_EMAIL": "alice@example.com",
}


# Variables a CI system sets; tests that run stagetag as a CI would pass exactly the ones they
# mean, whatever CI the suite itself runs on.
CI_PREFIXES = ("GITHUB_", "GITLAB_", "CI_", "INPUT_", "STAGETAG_", "RUNNER_")


def clean_environ() -> dict[str, str]:
    """os.environ without the variables of a CI system the tests themselves may run on."""
    return {k: v for k, v in os.environ.items() if not k.startswith(CI_PREFIXES) and k != "CI"}


def require(tool_ok: bool, what: str, fix: str) -> None:
    """Unless `tool_ok`: under CI a missing tool is a broken setup (the test fails), elsewhere
    a reason to skip. `what` says what is missing, `fix` how to install it."""
    if tool_ok:
        return
    reason = f"{what} ({fix})"
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def start_stagetag(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """The real `stagetag` started, not waited for: for runs that race each other."""
    return subprocess.Popen(
        ["stagetag", *argv],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def run_stagetag(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    executable: str | Path = "stagetag",
    timeout: float = 120,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """The real `stagetag` executable (from PATH unless given), as a user runs it: in `cwd`,
    with none of a CI system's variables except those in `env`. With `check`, it must exit 0."""
    result = subprocess.run(
        [str(executable), *args],
        cwd=cwd,
        env={**clean_environ(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check:
        assert result.returncode == 0, f"stagetag {args}\n{result.stdout}{result.stderr}"
    return result


def stop(process: subprocess.Popen[Any], timeout: float = 60) -> None:
    """End a server a test started: SIGTERM, then SIGKILL if it is still there after
    `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """The folder `name`, made by `make(folder)` once per test session: xdist workers share
    it (their base temps are children of the session's), and a lock makes the others wait for
    the first instead of doing the same work at once."""
    base = factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / name
    with open(folder.with_name(folder.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = folder / ".done"
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            make(folder)
            done.touch()
    return folder


# A test that has something to say in the terminal (pytest captures print, and xdist workers'
# output never reaches it) records it with `record_property(SUMMARY, text)`.
SUMMARY = "terminal_summary"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show what tests recorded as SUMMARY; the reports carry it, also from xdist workers."""
    lines = [
        f"{report.nodeid}: {value}"
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for key, value in getattr(report, "user_properties", ())
        if key == SUMMARY
    ]
    if lines:
        terminalreporter.write_sep("-", "recorded by the tests")
        for line in lines:
            terminalreporter.write_line(line)


def read_github_output(path: Path) -> dict[str, str]:
    """GITHUB_OUTPUT entries, `key=value` or `key<<DELIMITER` ... `DELIMITER`, as the runner
    reads them; a key written twice is an error."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            value: list[str] = []
            for body in lines:
                if body == delimiter:
                    break
                value.append(body)
            else:
                raise AssertionError(f"output {key!r} has no closing delimiter")
            text = "\n".join(value)
        else:
            key, text = line.split("=", 1)
        assert key not in outputs, f"{key} written twice"
        outputs[key] = text
    return outputs


@contextmanager
def isolated_git(home: Path, clear_ci: bool = False) -> Iterator[pytest.MonkeyPatch]:
    """A pinned identity and no user or system git config (nor GTO's settings, and with
    clear_ci none of a CI system's variables): what every test runs under, also usable by
    module-scoped fixtures, which the autouse fixture does not reach."""
    with pytest.MonkeyPatch.context() as mp:
        home.mkdir(parents=True, exist_ok=True)
        mp.setenv("HOME", str(home))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        mp.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        mp.setenv("TZ", "UTC")
        for key, value in IDENTITY.items():
            mp.setenv(key, value)
        gto_settings = [k for k in os.environ if k.startswith("GTO_") and k != "GTO_ORACLE"]
        ci_settings = [k for k in os.environ if k.startswith(CI_PREFIXES) or k == "CI"]
        for key in gto_settings + (ci_settings if clear_ci else []):
            mp.delenv(key)
        yield mp


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with isolated_git(tmp_path_factory.mktemp("home")):
        yield


@dataclass
class GitRepo:
    """A scratch repository with helpers that make commits and tags at fixed dates."""

    path: Path

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env={**os.environ, **(env or {})},
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()

    def commit(self, name: str, date: str = "2024-01-01T12:00:00+0000") -> str:
        """Commit a file `f_<name>` holding `<name>`; return the commit SHA."""
        target = self.path / f"f_{name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"{name}\n")
        self.git("add", "-A")
        self.git("commit", "-qm", name, env={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
        return self.git("rev-parse", "HEAD")

    def tag(self, name: str, target: str, date: str, message: str = "") -> None:
        """An annotated tag with a fixed tagger date and a verbatim message, as GTO writes them."""
        self.git(
            "tag",
            "-a",
            name,
            "-m",
            message or name,
            "--cleanup=verbatim",
            target,
            env={"GIT_COMMITTER_DATE": date},
        )

    def lightweight_tag(self, name: str, target: str) -> None:
        self.git("tag", name, target)

    def signed_tag(self, name: str, target: str, message: str) -> None:
        """A GPG-signed tag (`git tag -s`), with a throwaway key; skips without gpg."""
        if shutil.which("gpg") is None:
            pytest.skip("gpg is not installed")
        home = self.path.parent / "gnupg"
        if not home.exists():
            home.mkdir(mode=0o700)
            subprocess.run(
                [
                    "gpg",
                    "--batch",
                    "--passphrase",
                    "",
                    "--quick-gen-key",
                    f"{IDENTITY['GIT_COMMITTER_NAME']} <{IDENTITY['GIT_COMMITTER_EMAIL']}>",
                    "ed25519",
                    "sign",
                    "never",
                ],
                env={**os.environ, "GNUPGHOME": str(home)},
                check=True,
                capture_output=True,
            )
        signer = {"user.signingkey": IDENTITY["GIT_COMMITTER_EMAIL"]}
        self._tag_signed(signer, name, target, message, {"GNUPGHOME": str(home)})
        # git started a gpg-agent for this home; stop it rather than leave it running.
        subprocess.run(
            ["gpgconf", "--kill", "gpg-agent"],
            env={**os.environ, "GNUPGHOME": str(home)},
            check=False,
            capture_output=True,
        )

    def ssh_signed_tag(self, name: str, target: str, date: str, message: str, key: Path) -> None:
        """An annotated tag signed with the SSH private key file `key` (`git tag -s`), made by
        hand as anyone who may push tags could."""
        signer = {"gpg.format": "ssh", "user.signingkey": str(key)}
        self._tag_signed(signer, name, target, message, {"GIT_COMMITTER_DATE": date})

    def _tag_signed(
        self, signer: dict[str, str], name: str, target: str, message: str, env: dict[str, str]
    ) -> None:
        """`git tag -s` with the signer's git settings (`-c key=value` each)."""
        settings = [arg for key, value in signer.items() for arg in ("-c", f"{key}={value}")]
        self.git(*settings, "tag", "-s", name, "-m", message, target, env=env)


def ssh_key(folder: Path, name: str) -> tuple[Path, str]:
    """A new ed25519 key pair without a passphrase (`ssh-keygen -t ed25519 -N ''`): the
    private key's path and the public key's line (`ssh-ed25519 AAAA... name`)."""
    require(
        shutil.which("ssh-keygen") is not None,
        "ssh-keygen is not installed",
        "apt-get install openssh-client",
    )
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)],
        check=True,
        capture_output=True,
    )
    return key, Path(f"{key}.pub").read_text().strip()


def make_repo(path: Path) -> GitRepo:
    path.mkdir(parents=True, exist_ok=True)
    repo = GitRepo(path)
    repo.git("init", "-q", "-b", "main")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return make_repo(tmp_path / "repo")
