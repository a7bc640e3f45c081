"""The error boundary: one line and a documented exit code for anything that goes wrong, a
traceback only when asked; options worded for the interface that runs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stagetag.entrypoint.action import as_input
from stagetag.entrypoint.boundary import guarded
from stagetag.errors import DeployFailed, Option, StagetagError, as_flag


def outcome(work: Callable[[], int | None], **kwargs: bool) -> tuple[int, list[str]]:
    lines: list[str] = []
    with pytest.raises(SystemExit) as exited:
        guarded(work, lines.append, as_flag, **kwargs)
    code = exited.value.code
    assert isinstance(code, int)
    return code, lines


def fail(error: BaseException) -> Callable[[], int]:
    def work() -> int:
        raise error

    return work


def test_done_is_zero_and_quiet() -> None:
    assert outcome(lambda: None) == (0, [])


def test_a_refusal_is_one_and_says_why() -> None:
    assert outcome(fail(StagetagError("no such stage 'qa'"))) == (1, ["error: no such stage 'qa'"])


def test_a_failed_deploy_job_is_three() -> None:
    assert outcome(fail(DeployFailed("1 of 2 deploy jobs failed")))[0] == 3


def test_a_file_that_cannot_be_written_is_a_refusal() -> None:
    code, lines = outcome(fail(IsADirectoryError(21, "Is a directory", "site/index.html")))
    assert (code, lines) == (1, ["error: Is a directory: site/index.html"])


def test_a_bug_is_four_with_one_line_naming_the_tracker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STAGETAG_DEBUG", raising=False)
    code, [line] = outcome(fail(KeyError("oops\nsecond line")))
    assert code == 4
    assert line.startswith("internal error: KeyError: ") and "\n" not in line
    assert "github.com/stagetag/stagetag/issues" in line


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_the_traceback_comes_out_when_asked(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how == "environment":
        monkeypatch.setenv("STAGETAG_DEBUG", "1")
    with pytest.raises(KeyError):
        guarded(fail(KeyError("oops")), print, as_flag, traceback=how == "flag")


def test_options_are_worded_for_each_interface() -> None:
    error = StagetagError(
        "tag 'm@v1' exists; use {simple}, or {force}, or give {to}",
        simple=Option("simple", "false"),
        force=Option("force"),
        to=Option("to"),
    )
    assert str(error) == "tag 'm@v1' exists; use --simple false, or --force, or give --to VERSION"
    assert error.worded(as_input) == (
        "tag 'm@v1' exists; use input 'simple: false', or input 'force: true', or give input 'to'"
    )
