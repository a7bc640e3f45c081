"""The `stagetag` command line: one click group; each command lives in a module of its own,
imported only when it runs (so that `stagetag show` pays for neither Jinja nor the action,
and `stagetag --help` for none of them)."""

from __future__ import annotations

import gc
import importlib
import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import click

from stagetag.entrypoint.boundary import guarded
from stagetag.errors import as_flag


class Entry(NamedTuple):
    target: str  # module:attribute, imported when the command runs
    # The first sentence of the command's help, which is all `stagetag --help` shows of it:
    # listing the commands then imports none of them (tests check that the two agree).
    summary: str


_READ, _WRITE = "stagetag.entrypoint.read_commands", "stagetag.entrypoint.write_commands"
_ASSIGN = Entry(
    f"{_WRITE}:assign",
    "Assign STAGE to a version of NAME: the one at REF (default HEAD), registering it first if "
    "needed, or an existing --version.",
)
COMMANDS = {
    "show": Entry(
        f"{_READ}:show", "Show the registry, an artifact's versions, or what holds a stage."
    ),
    "history": Entry(f"{_READ}:history", "Show every registry event, newest first."),
    "check-ref": Entry(
        f"{_READ}:check_ref",
        "Tell what a tag did; print nothing for anything that is not a GTO tag.",
    ),
    "stages": Entry(f"{_READ}:stages", "List stages: those `.gto` allows, else those in use."),
    "doctor": Entry(
        "stagetag.entrypoint.doctor_command:doctor",
        "Show stagetag's version and the config in effect, and check the registry for problems "
        "(GTO's `doctor`); exit 1 if there are any.",
    ),
    "dashboard": Entry(
        "stagetag.entrypoint.dashboard_command:dashboard",
        "Write a static dashboard of the registry: a models page and one page per model.",
    ),
    "register": Entry(
        f"{_WRITE}:register",
        "Register a version of NAME at REF (default HEAD): --version, or the latest bumped.",
    ),
    "assign": _ASSIGN,
    "promote": _ASSIGN,  # GTO's alias
    "unassign": Entry(
        f"{_WRITE}:unassign",
        "Take STAGE from VERSION of NAME (the previous holder then holds it, as in GTO).",
    ),
    "deregister": Entry(f"{_WRITE}:deregister", "Deregister VERSION of NAME."),
    "deprecate": Entry(f"{_WRITE}:deprecate", "Deprecate NAME."),
    "rollback": Entry(
        f"{_WRITE}:rollback",
        "Give STAGE of NAME back to the previous holder (or --to VERSION) in one step.",
    ),
    "dispatch": Entry(
        "stagetag.entrypoint.dispatch_command:dispatch",
        "Plan deployments for pushed tags (REFS, else $GITHUB_REF or $CI_COMMIT_TAG) from the "
        "`deploy:` section of stagetag.yaml, and render or run them.",
    ),
    "action": Entry("stagetag.entrypoint.action:action", ""),  # for CI only: not listed
}


class _Group(click.Group):
    """Imports a command's module when it is used, and runs it inside the error boundary
    (entrypoint/boundary.py): one line on stderr and a documented exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if name != "action"]  # `action` is for CI only

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, _, attr = entry.target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's command list, shortened by click as it shortens a command's own help,
        from the summaries: without importing every command (which costs more than all of
        the rest of `--help`)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [
            (name, click.Command(name, help=COMMANDS[name].summary).get_short_help_str(limit))
            for name in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> object:
        # A command builds a few objects per tag and frees none before it exits; Python's
        # cyclic collector would rescan them again and again (a third of the run time at
        # 50,000 tags). Nothing here makes reference cycles that need collecting.
        gc.disable()
        guarded(
            lambda: _exit_code(super(_Group, self).invoke(ctx)),
            lambda line: click.echo(f"stagetag: {line}", err=True),
            as_flag,
            traceback=bool(ctx.params.get("traceback")),
        )


def _exit_code(result: object) -> int:
    return result if isinstance(result, int) else 0


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="stagetag")
@click.option(
    "-v", "--verbose", is_flag=True, help="Print each git command run, on stderr (GTO's flag)."
)
@click.option("--traceback", is_flag=True, help="Show the traceback of an internal error (a bug).")
def main(verbose: bool, traceback: bool) -> None:
    """GTO-compatible model registry in Git tags."""
    if verbose:
        from stagetag import gitio

        gitio.trace_git(_trace)


_USERINFO = re.compile(r"(://)[^/@\s]+@")


def _trace(repo: Path, args: Sequence[str], code: int) -> None:
    """One stderr line per git process; a URL's user and password are never shown."""
    line = _USERINFO.sub(r"\1***@", shlex.join(["git", "-C", str(repo), *args]))
    click.echo(f"stagetag: debug: {line} (exit {code})", err=True)
