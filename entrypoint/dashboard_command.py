"""`stagetag dashboard`: the registry as a static site."""

from __future__ import annotations

from pathlib import Path

import click

from stagetag.ci_forms import read_dashboard_settings
from stagetag.entrypoint.output import warn
from stagetag.entrypoint.read_commands import open_registry, source_option
from stagetag.presentation.dashboard import build_dashboard


@click.command()
@source_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder to write the site into.",
)
@click.option(
    "--remote",
    default="origin",
    show_default=True,
    help="Remote whose GitHub or GitLab URL the pages link commits, tags and CI forms to "
    "(unless stagetag.yaml's dashboard: url says).",
)
def dashboard(repo: str, output: Path, remote: str) -> None:
    """Write a static dashboard of the registry: a models page and one page per model.

    \b
      stagetag dashboard -o site && open site/index.html
    """
    registry = open_registry(repo, with_commits=True)
    settings, problem = read_dashboard_settings(registry.root)
    if problem:
        warn(problem)
    pages = build_dashboard(registry, output, remote, settings)
    click.echo(f"Wrote {len(pages)} pages to {output}")
