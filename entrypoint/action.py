"""The CI action: register a version or assign a stage from workflow inputs, push the tags,
and report back to the CI system (outputs, summary, annotations).

Inputs: command (register, assign, unassign, deregister, deprecate, rollback; check-ref:
gto-action's outputs for the triggering tag; dispatch: the deployment matrix; dashboard: the
registry as a static site), name, ref, version, stage, message, push (default true), remote,
token, signing_key, dry_run, force, simple, bump, to, skip_registration, dispatch_workflow,
dispatch_ref, output.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import click

from stagetag import gitio, signing
from stagetag.annotations import artifact_annotations
from stagetag.ci_forms import read_dashboard_settings
from stagetag.commands import COMMANDS, WriteRequest, perform
from stagetag.dispatcher.dispatch import default_branch
from stagetag.dispatcher.dispatch import dispatch as dispatch_tags
from stagetag.dispatcher.refs import ensure_tags, triggering_refs
from stagetag.dispatcher.targets import render
from stagetag.entrypoint.boundary import guarded
from stagetag.entrypoint.ci import Platform
from stagetag.entrypoint.write_commands import outcome_record
from stagetag.errors import Option, StagetagError
from stagetag.events import Kind
from stagetag.grammar import Shortcut
from stagetag.presentation.dashboard import build_dashboard
from stagetag.presentation.markdown import artifact_markdown, registry_markdown
from stagetag.presentation.markdown import cell as markdown_cell
from stagetag.publish import Outcome
from stagetag.registry import load_registry
from stagetag.views import (
    ShowOptions,
    artifact_view,
    check_ref_events,
    ref_artifacts,
    registry_view,
    shown_stages,
)

READ_COMMANDS = ("check-ref", "dispatch", "dashboard")
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off", ""}


def flag(platform: Platform, name: str, default: bool) -> bool:
    raw = platform.input(name).lower()
    if not raw:
        return default
    if raw in _TRUE | _FALSE:
        return raw in _TRUE
    raise StagetagError(f"input {name!r} must be true or false, not {raw!r}")


def request_from_inputs(platform: Platform, remote: str, signing_key: Path | None) -> WriteRequest:
    command = platform.input("command") or "assign"
    if command not in COMMANDS:
        choices = ", ".join([*COMMANDS, *READ_COMMANDS])
        raise StagetagError(f"input 'command' must be one of {choices}, not {command!r}")
    name = platform.input("name")
    if not name:
        raise StagetagError("input 'name' is required: the artifact, e.g. 'churn' or 'dir:churn'")
    simple = platform.input("simple").lower()
    if simple not in ("", "auto", "true", "false"):
        raise StagetagError(f"input 'simple' must be auto, true or false, not {simple!r}")
    return WriteRequest(
        command=command,
        name=name,
        ref=platform.input("ref") or None,
        version=platform.input("version") or None,
        stage=platform.input("stage") or None,
        message=platform.input("message") or None,
        simple=None if simple in ("", "auto") else simple == "true",
        force=flag(platform, "force", False),
        bump=platform.input("bump") or None,
        skip_registration=flag(platform, "skip_registration", False),
        to_version=platform.input("to") or None,
        push=flag(platform, "push", True),
        remote=remote,
        dry_run=flag(platform, "dry_run", False),
        actor=platform.actor,
        signing_key=signing_key,
    )


def configure_git(platform: Platform, token: str) -> tuple[str, gitio.GitEnv]:
    """The remote to push to, and the git settings of this run (given to every git call,
    never written to a file or os.environ): trust the workspace, a tagger identity if none is
    set, and the token as an HTTP header for the remote's host."""
    settings = [("safe.directory", str(platform.workspace.resolve()))]
    remote = platform.input("remote") or "origin"
    if platform.kind == "gitlab" and token and not platform.input("remote"):
        # The checkout's origin carries the job token, which may not push; use the plain URL.
        server, project = platform.env.get("CI_SERVER_URL"), platform.env.get("CI_PROJECT_PATH")
        if not (server and project):
            raise StagetagError("CI_SERVER_URL and CI_PROJECT_PATH are not set; give 'remote'")
        remote = f"{server}/{project}.git"
    if token:
        with gitio.configured(gitio.GitEnv(tuple(settings))):
            url = remote if "://" in remote else gitio.remote_url(platform.workspace, remote)
        parts = urlsplit(url or "")
        if parts.scheme in ("http", "https"):
            user = "x-access-token" if platform.kind == "github" else "oauth2"
            basic = base64.b64encode(f"{user}:{token}".encode()).decode()
            key = f"http.{parts.scheme}://{parts.netloc.rpartition('@')[2]}/.extraheader"
            platform.mask(basic)
            settings += [(key, ""), (key, f"AUTHORIZATION: basic {basic}")]
    return remote, gitio.GitEnv(tuple(settings), platform.identity())


def summary(outcome: Outcome, request: WriteRequest) -> str:
    leftovers = "".join(
        f"Pushed `{t.name}`, left unpushed by an earlier run.\n\n" for t in outcome.recovered
    ) + "".join(
        f"Dropped local `{t.name}`: the remote took its place first.\n\n" for t in outcome.dropped
    )
    if outcome.plan.noop:
        return f"### stagetag: nothing to do\n\n{leftovers}{outcome.plan.noop}.\n"
    verb = "Would create" if request.dry_run else "Pushed" if outcome.pushed else "Created"
    rows = "".join(
        f"| `{t.name}` | {t.event.label} | `{t.target[:7]}` | {markdown_cell(t.message)} |\n"
        for t in outcome.plan.tags
    )
    return (
        f"### stagetag: {request.command} {request.name}\n\n{leftovers}{verb} these tags:\n\n"
        f"| tag | event | commit | message |\n|---|---|---|---|\n{rows}"
    )


def artifact_summary(platform: Platform, request: WriteRequest) -> str:
    """The artifact's versions and stages after the change, as `stagetag show NAME --md`."""
    registry = load_registry(platform.workspace, artifacts=frozenset([request.name]))
    if request.name not in registry.state.artifacts:
        return ""
    rows = artifact_view(registry, Shortcut(request.name), ShowOptions())
    return f"\n#### {markdown_cell(request.name)} now\n\n{artifact_markdown(rows)}"


def dispatch_workflow(platform: Platform, token: str, workflow: str, tag: str) -> None:
    """Start the deploy workflow explicitly: tags pushed with GITHUB_TOKEN start none."""
    api = platform.env.get("GITHUB_API_URL", "https://api.github.com")
    repository = platform.env.get("GITHUB_REPOSITORY", "")
    ref = platform.input("dispatch_ref") or platform.env.get("GITHUB_REF_NAME", "main")
    body = json.dumps({"ref": ref, "inputs": {"tag": tag}}).encode()
    request = urllib.request.Request(
        f"{api}/repos/{repository}/actions/workflows/{workflow}/dispatches",
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
    except urllib.error.HTTPError as e:
        raise StagetagError(
            f"could not start workflow {workflow!r} (HTTP {e.code}); give the job "
            "'actions: write' permission and check that the workflow has workflow_dispatch"
        ) from None
    except urllib.error.URLError as e:
        raise StagetagError(f"could not reach {api} to start {workflow!r}: {e.reason}") from None


def check_ref(platform: Platform, remote: str) -> int:
    """gto-action's outputs for the triggering tag: event, name, version, stage, type, path,
    description (the stage also for unassignments). Empty for anything but a GTO tag."""
    refs = [platform.input("ref")] if platform.input("ref") else triggering_refs(platform.env)
    root = gitio.repo_root(platform.workspace)
    ensure_tags(root, refs, remote, fetch=True)
    registry = load_registry(root, with_commits=False, artifacts=ref_artifacts(refs))
    events = [e for ref in refs for e in check_ref_events(registry, ref)]
    outputs = dict.fromkeys(
        ("event", "name", "version", "stage", "type", "path", "description"), ""
    )
    if events:
        event = events[0]
        version = event.version if event.kind is not Kind.DEPRECATION else None
        notes = artifact_annotations(
            root, event.artifact, event.commit_hexsha, registry.config.index
        )
        outputs.update(
            event=event.kind.label,
            name=event.artifact,
            version=version or "",
            stage=event.stage or "",
            type=notes["type"] or "",
            path=notes["path"] or "",
            description=notes["description"] or "",
        )
    platform.set_outputs(
        outputs, dotenv=platform.workspace / (platform.input("dotenv") or "stagetag.env")
    )
    echo_outputs(outputs)
    return 0


def dispatch(platform: Platform, remote: str) -> int:
    """Plan deployments for the triggering tag: outputs `matrix` (for fromJSON) and
    `has_jobs`, and the plan in the job summary."""
    planned = dispatch_tags(platform.workspace, [platform.input("ref")], platform.env, remote)
    for warning in planned.warnings:
        platform.warning(warning)
    for notice in planned.plan.notices:
        platform.notice(notice)
    jobs = planned.plan.jobs
    matrix = render(planned.plan, "github", planned.config.templates).strip()
    platform.set_outputs({"matrix": matrix, "has_jobs": str(bool(jobs)).lower()})
    rows = "".join(f"| {markdown_cell(job.title)} |\n" for job in jobs)
    platform.summarize(
        f"### stagetag: deployments\n\n| job |\n|---|\n{rows}"
        if rows
        else "### stagetag: nothing to deploy\n"
    )
    print(matrix)
    planned.check()
    return 0


def dashboard(platform: Platform, remote: str) -> int:
    """Write the registry dashboard into the folder named by input `output` (default `site`,
    from the workspace), for a Pages upload; the registry table goes to the job summary."""
    root = gitio.repo_root(platform.workspace)
    if gitio.is_shallow(root):
        raise StagetagError(
            "the checkout is shallow, so the dashboard would miss tags and commits: "
            'check out with fetch-depth: 0 (GitLab: GIT_DEPTH: "0")'
        )
    registry = load_registry(root)
    output = platform.workspace / (platform.input("output") or "site")
    settings, problem = read_dashboard_settings(root)
    if problem:
        platform.warning(problem)
    pages = build_dashboard(registry, output, remote, settings, default_branch(platform.env))
    platform.set_outputs({"output": str(output), "pages": str(len(pages))})
    platform.summarize(
        "### stagetag: registry\n\n"
        + registry_markdown(registry_view(registry, ShowOptions()), shown_stages(registry))
    )
    print(f"Wrote {len(pages)} pages to {output}")
    return 0


def echo_outputs(outputs: dict[str, str]) -> None:
    """Show the outputs in the log, one line each: a value from an annotation file could
    otherwise start a line with `::` and be read as a workflow command."""
    for key, value in outputs.items():
        print(f"{key}: {' '.join(value.split())}")


def signing_key(platform: Platform) -> str | None:
    """Input 'signing_key': the key's text (a secret; on GitHub every line is masked before
    anything else prints), or the path of a file holding it (a GitLab variable of type File)."""
    raw = platform.input("signing_key")
    if not raw:
        return None
    if "\n" not in raw and not raw.startswith("-----") and Path(raw).is_file():
        return signing.read_key(Path(raw))
    for line in secret_lines(raw):
        platform.mask(line)
    return signing.parse_key(raw, "input 'signing_key'")


def secret_lines(key: str) -> list[str]:
    """The lines of a key that are secret: all but its BEGIN and END lines."""
    return [line for line in map(str.strip, key.splitlines()) if line and line[:5] != "-----"]


def refuse_secrets_in_inputs(platform: Platform, token: str) -> None:
    """A secret inside another input (pasted into a form, or a `$STAGETAG_TOKEN` the CI system
    expanded in a message) would be written into a pushed tag or a log: refuse it."""
    secrets = {
        "token": [token] if token else [],
        # the key's lines long enough not to turn up in an input by chance
        "signing_key": [
            line for line in secret_lines(platform.input("signing_key")) if len(line) > 16
        ],
    }
    for name, value in platform.inputs().items():
        for secret, pieces in secrets.items():
            if name != secret and any(piece in value for piece in pieces):
                what = secret.replace("_", " ")
                raise StagetagError(
                    f"input {name!r} contains the {what}; remove it from that input"
                )


@contextmanager
def key_file(key: str | None) -> Iterator[Path | None]:
    """The key in a file only this user can read (as ssh-keygen wants), for as long as the
    run lasts; removed after, whatever happens. Under the runner's own temporary folder when
    it has one, which the runner empties after each job even if this run was killed."""
    if key is None:
        yield None
        return
    runner_temp = os.environ.get("RUNNER_TEMP") or None
    with tempfile.TemporaryDirectory(prefix="stagetag-key-", dir=runner_temp) as folder:
        path = Path(folder) / "signing_key"
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(key)
        yield path


def run(platform: Platform) -> int:
    token = platform.input("token")
    if token and not token.isprintable():
        # checked before masking: `::add-mask::` masks one line, the rest would print as is
        raise StagetagError(
            "input 'token' holds a newline or another control character; store the token "
            "alone, on one line, in the secret"
        )
    platform.mask(token)
    key = signing_key(platform)
    refuse_secrets_in_inputs(platform, token)
    remote, git_env = configure_git(platform, token)
    with gitio.configured(git_env), key_file(key) as key_path:
        return run_command(platform, token, remote, key_path)


def run_command(platform: Platform, token: str, remote: str, key: Path | None) -> int:
    if platform.input("command") == "check-ref":
        return check_ref(platform, remote)
    if platform.input("command") == "dispatch":
        return dispatch(platform, remote)
    if platform.input("command") == "dashboard":
        return dashboard(platform, remote)
    request = request_from_inputs(platform, remote, key)
    outcome = perform(platform.workspace, request)
    record = outcome_record(outcome, request.dry_run)
    outputs = {
        "tag": record["tags"][-1] if record["tags"] else "",
        "tags": " ".join(record["tags"]),
        "recovered": " ".join(record["recovered"]),
        "event": record["event"] or "",
        "name": record["name"] or "",
        "version": record["version"] or "",
        "stage": record["stage"] or "",
        "commit": record["commit"] or "",
        "created": "true" if record["created"] else "false",
        "pushed": "true" if record["pushed"] else "false",
    }
    dotenv = Path(platform.input("dotenv") or "stagetag.env")
    platform.set_outputs(outputs, dotenv=platform.workspace / dotenv)
    platform.summarize(summary(outcome, request) + artifact_summary(platform, request))
    workflow = platform.input("dispatch_workflow")
    # each tag a killed run left unpushed never got its deploy either
    deploy = record["recovered"] + record["tags"][-1:] if outcome.pushed else []
    if workflow and deploy:
        if not token:
            raise StagetagError("input 'dispatch_workflow' needs 'token' to call the API")
        for tag in deploy:
            dispatch_workflow(platform, token, workflow, tag)
            platform.notice(f"started workflow {workflow} for {tag}")
    echo_outputs(outputs)
    return 0


_SWITCHES = {"force", "skip_registration", "dry_run", "push"}


def as_input(option: Option) -> str:
    """`input 'simple: false'`: an option as the action takes it."""
    value = option.value or ("true" if option.name in _SWITCHES else "")
    return f"input '{option.name}: {value}'" if value else f"input '{option.name}'"


@click.command("action", hidden=True)
def action() -> None:
    """Run as the CI action: inputs from INPUT_* (GitHub) or STAGETAG_* (GitLab) variables."""
    platform = Platform.detect()
    guarded(lambda: run(platform), lambda line: platform.error(line), as_input)
