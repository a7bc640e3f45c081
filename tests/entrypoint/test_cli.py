"""The command group: `stagetag --help` lists every command without importing any of them,
with the same short help each command gives itself."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from stagetag.entrypoint.cli import COMMANDS, main

LISTED = [name for name in COMMANDS if name != "action"]


@pytest.mark.parametrize("name", LISTED)
def test_a_summary_shortens_as_the_commands_own_help(name: str) -> None:
    command = main.get_command(click.Context(main), name)
    assert command is not None
    summary = click.Command(name, help=COMMANDS[name].summary)
    for limit in range(20, 160, 7):
        assert summary.get_short_help_str(limit) == command.get_short_help_str(limit)


def test_help_imports_no_command_nor_jinja_nor_yaml() -> None:
    script = (
        "import sys\n"
        "from stagetag.entrypoint.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    print(' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "\n  dispatch    Plan deployments" in done.stdout  # the list went out
    loaded = set(done.stderr.split())
    commands = {entry.target.partition(":")[0] for entry in COMMANDS.values()}
    assert not loaded & (commands | {"jinja2", "yaml", "stagetag.gitio"})
