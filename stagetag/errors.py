"""The errors a user can fix, with the options they name kept as fields, so that each way in
(the command line, the CI action) words them for its own interface; the entry points turn
each into one line and an exit code, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple


class Option(NamedTuple):
    """An option a message tells the user to set, by its action input id (`simple`,
    `skip_registration`, ...) and the value to give, if any."""

    name: str
    value: str = ""


Wording = Callable[[Option], str]

# How the command line spells an option whose flag differs from its input id.
_FLAGS = {
    "skip_registration": "--sr",
    "bump": "one --bump-* flag",
    "to": "--to VERSION",
    "signing_key": "--sign-with KEY",
}


def as_flag(option: Option) -> str:
    """`--simple false`: an option as the command line takes it."""
    flag = _FLAGS.get(option.name, f"--{option.name.replace('_', '-')}")
    return f"{flag} {option.value}" if option.value else flag


class StagetagError(Exception):
    """A problem with the user's input, repository or config, explained in one line.

    `message` names options as `{key}`, each given as an Option keyword; `str()` words them as
    the command line does, `worded()` as another interface does."""

    exit_code = 1  # refused: bad input, policy, conflict

    def __init__(self, message: str, **options: Option) -> None:
        self.message, self.options = message, options
        super().__init__(self.worded(as_flag))

    def worded(self, word: Wording) -> str:
        text = self.message
        for key, option in self.options.items():
            text = text.replace(f"{{{key}}}", word(option))
        return text


class DeployFailed(StagetagError):
    """A deploy job that `dispatch --run` ran failed: the plan was fine, the job was not."""

    exit_code = 3
