"""The `stagetag` command line: one click group; each command lives in a module of its own,
imported only when it runs (so that `stagetag show` pays for neither Jinja nor the action)."""

from __future__ import annotations

import gc
import importlib
import re
import shlex
from collections.abc import Sequence
from pathlib import Path

import click

from stagetag.entrypoint.boundary import guarded
from stagetag.errors import as_flag

COMMANDS = {
    "show": "stagetag.entrypoint.read_commands:show",
    "history": "stagetag.entrypoint.read_commands:history",
    "check-ref": "stagetag.entrypoint.read_commands:check_ref",
    "stages": "stagetag.entrypoint.read_commands:stages",
    "doctor": "stagetag.entrypoint.doctor_command:doctor",
    "dashboard": "stagetag.entrypoint.dashboard_command:dashboard",
    "register": "stagetag.entrypoint.write_commands:register",
    "assign": "stagetag.entrypoint.write_commands:assign",
    "promote": "stagetag.entrypoint.write_commands:assign",  # GTO's alias
    "unassign": "stagetag.entrypoint.write_commands:unassign",
    "deregister": "stagetag.entrypoint.write_commands:deregister",
    "deprecate": "stagetag.entrypoint.write_commands:deprecate",
    "rollback": "stagetag.entrypoint.write_commands:rollback",
    "dispatch": "stagetag.entrypoint.dispatch_command:dispatch",
    "action": "stagetag.entrypoint.action:action",
}


class _Group(click.Group):
    """Imports a command's module when it is used, and runs it inside the error boundary
    (entrypoint/boundary.py): one line on stderr and a documented exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if name != "action"]  # `action` is for CI only

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

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
