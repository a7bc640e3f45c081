"""`stagetag dispatch`: pushed stage tags in, deployment jobs out."""

from __future__ import annotations

import os
from pathlib import Path

import click

from stagetag.dispatcher.dispatch import dispatch as dispatch_tags
from stagetag.dispatcher.refs import save_state
from stagetag.dispatcher.runner import run_jobs
from stagetag.dispatcher.targets import FORMATS, render
from stagetag.entrypoint.ci import Platform
from stagetag.entrypoint.output import warn
from stagetag.entrypoint.read_commands import repo_option
from stagetag.errors import DeployFailed
from stagetag.files import write_whole


@click.command()
@repo_option
@click.argument("refs", nargs=-1)
@click.option(
    "--format",
    "output",
    type=click.Choice(FORMATS),
    default="json",
    show_default=True,
    help="github: a job matrix; gitlab: a child pipeline; script; json: the plan.",
)
@click.option(
    "-o",
    "--output-file",
    type=click.Path(path_type=Path),
    help="Write the rendered jobs here instead of stdout.",
)
@click.option("--run", "run_here", is_flag=True, help="Run the planned commands here, in order.")
@click.option(
    "--since",
    "state_file",
    type=click.Path(path_type=Path),
    help="Dispatch every GTO tag not listed in this state file.",
)
@click.option(
    "--save-state",
    "state_out",
    type=click.Path(path_type=Path),
    help="Write the current GTO tags here, for the next --since.",
)
@click.option("--remote", default="origin", show_default=True, help="Where to fetch tags from.")
@click.option(
    "--fetch/--no-fetch",
    default=True,
    show_default=True,
    help="Fetch tags when the clone lacks them (shallow or lightweight).",
)
def dispatch(
    repo: Path,
    refs: tuple[str, ...],
    output: str,
    output_file: Path | None,
    run_here: bool,
    state_file: Path | None,
    state_out: Path | None,
    remote: str,
    fetch: bool,
) -> None:
    """Plan deployments for pushed tags (REFS, else $GITHUB_REF or $CI_COMMIT_TAG) from the
    `deploy:` section of stagetag.yaml, and render or run them.

    \b
      stagetag dispatch refs/tags/churn#prod#3 --format github
      stagetag dispatch --run            # in a tag pipeline
    """
    planned = dispatch_tags(
        repo, refs, os.environ, remote, fetch, state_file, every_tag=state_out is not None
    )
    for warning in planned.warnings:
        warn(warning)
    plan, config, root = planned.plan, planned.config, planned.root
    for notice in plan.notices:
        click.echo(f"stagetag: {notice}", err=True)
    text = render(plan, output, config.templates)
    if output_file is not None:
        write_whole(output_file, text)
    elif not run_here:
        click.echo(text, nl=False, color=True)  # as written, on a terminal as in a pipe
    platform = Platform.detect()
    if output == "github" and platform.kind == "github":
        platform.set_outputs({"matrix": text.strip(), "has_jobs": str(bool(plan.jobs)).lower()})
    if state_out is not None:
        save_state(planned.registry.tags, state_out)
    if run_here:
        results = run_jobs(plan.jobs, str(root))
        failed = [r for r in results if r.status != "ok"]
        click.echo(f"stagetag: {len(results) - len(failed)} of {len(results)} jobs succeeded")
        planned.check()
        if failed:
            raise DeployFailed(f"{len(failed)} of {len(results)} deploy jobs failed (see above)")
    planned.check()
