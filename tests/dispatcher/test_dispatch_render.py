"""Command and document templates: sandboxed, strict, every value shell-quoted or serialized."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stagetag.dispatcher.plan import DispatchPlan, Job
from stagetag.dispatcher.render import (
    check_command_template,
    render_command,
    render_document,
    render_text,
)
from stagetag.dispatcher.targets import gitlab_pipeline, matrix_entry, render, safe_name
from stagetag.errors import StagetagError

# Anything an argument can hold: no NUL, no lone surrogates.
ARG_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
PAYLOADS = [
    "$(touch pwned)",
    "`touch pwned`",
    "; touch pwned",
    "| touch pwned",
    "&& touch pwned",
    "${{ secrets.GITHUB_TOKEN }}",
    "{{ 7*7 }}",
    "{% raw %}",
    "key: value",
    "- item",
    "&anchor",
    "!!python/object/apply:os.system ['touch pwned']",
    "a\nb: c\n- d",
    "'\"\\",
    "$CI_JOB_TOKEN ${HOME}",
    "-rf",
    "",
]


def bash_args(command: str) -> list[str]:
    """The arguments `command` passes, as bash splits them."""
    out = subprocess.run(
        ["bash", "-c", f"printf '%s\\0' {command}"], capture_output=True, check=True
    ).stdout.decode()
    return out.split("\0")[:-1]


@settings(max_examples=60, deadline=None)
@given(st.one_of(ARG_TEXT, st.sampled_from(PAYLOADS)))
def test_values_reach_the_shell_as_one_literal_argument(value: str) -> None:
    command = render_command("{{ v }}", {"v": value})
    assert bash_args(command) == [value]


@pytest.mark.parametrize("value", PAYLOADS)
def test_payloads_are_quoted_in_a_real_shell(value: str, tmp_path: Path) -> None:
    command = render_command("printf '%s\\0' {{ a }} x{{ b }}", {"a": value, "b": value})
    out = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, check=True)
    assert out.stdout.decode().split("\0")[:-1] == [value, "x" + value]
    assert list(tmp_path.iterdir()) == []


def test_lists_none_raw_and_shquote() -> None:
    context = {"labels": ["a b", "$(x)"], "none": None, "n": 3, "trusted": "--flag 'x'"}
    assert render_command("run {{ labels }}", context) == "run 'a b' '$(x)'"
    assert render_command("run {{ none }}", context) == "run ''"
    assert render_command("run {{ n }}", context) == "run 3"
    assert render_command("run {{ trusted | raw }}", context) == "run --flag 'x'"
    assert render_command("run {{ trusted | shquote }}", context) == "run '--flag '\"'\"'x'\"'\"''"
    assert render_command("  run {{ n }}\n", context) == "run 3"


def test_values_are_data_not_template_source() -> None:
    assert render_command("{{ v }}", {"v": "{{ 7*7 }}"}) == "'{{ 7*7 }}'"
    assert render_text("env-{{ v }}", {"v": "{% if 1 %}x{% endif %}"}) == (
        "env-{% if 1 %}x{% endif %}"
    )


def test_text_templates_collapse_whitespace_and_do_not_quote() -> None:
    assert render_text("deploy-{{ name }}-{{ stage }}", {"name": "a b", "stage": "p"}) == (
        "deploy-a b-p"
    )
    assert render_text("{{ m }}", {"m": "line\n::error::x\tz"}) == "line ::error::x z"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ name.__class__ }}",
        "{{ ('{0.__class__}'|attr('format'))(name) }}",
        "{{ '{0.__class__.__mro__}'.format(name) }}",
        "{{ name.format.__globals__ }}",
    ],
)
def test_sandbox_refuses_unsafe_access(source: str) -> None:
    with pytest.raises(StagetagError) as error:
        render_command(source, {"name": "m"})
    assert "\n" not in str(error.value)


def test_strict_undefined_lists_known_names() -> None:
    with pytest.raises(StagetagError) as error:
        render_command("deploy {{ nmae }}", {"name": "m", "stage": "prod"})
    assert str(error.value) == (
        "template 'deploy {{ nmae }}': 'nmae' is undefined (known: name, stage)"
    )


def test_syntax_errors_are_caught_at_check_time() -> None:
    check_command_template("deploy {{ name }} {% if x %}y{% endif %}")
    for bad in ("{{ name ", "{% if %}", "{% for %}", "{{ name }"):
        with pytest.raises(StagetagError, match="template error"):
            check_command_template(bad)


def test_unknown_filter_is_caught_at_check_time() -> None:
    with pytest.raises(StagetagError, match="nosuchfilter"):
        check_command_template("deploy {{ name | nosuchfilter }}")


def test_safe_name_keeps_only_what_both_ci_systems_accept() -> None:
    assert safe_name("deploy-m-prod") == "deploy-m-prod"
    assert safe_name("${{ secrets.X }}") == "secrets.X"
    assert safe_name("$CI_JOB_TOKEN") == "CI_JOB_TOKEN"
    assert safe_name("$$$") == "deploy"
    assert safe_name("a\nb: c") == "a-b- c"


def job(**context: object) -> Job:
    base: dict[str, object] = {
        "name": "m",
        "version": "v1.0.0",
        "stage": "prod",
        "environment": "production",
        "tag": "m#prod#1",
        "commit": "0" * 40,
        "event": "assignment",
        "action": "deploy",
        "path": "models/m.pkl",
        "type": "model",
        **context,
    }
    return Job(
        action="deploy",
        artifact="m",
        stage="prod",
        version="v1.0.0",
        environment=str(base["environment"]),
        command=str(base.get("command", "./d.sh")),
        runs_on=(),
        concurrency="deploy-m-prod",
        timeout=61,
        context=base,
    )


def test_builtin_documents_serialize_the_data() -> None:
    plan = DispatchPlan(jobs=[job(path="a\nb: c", command="x")], notices=["n'1"])
    matrix = json.loads(render(plan, "github", None))
    assert matrix == {"include": [matrix_entry(plan.jobs[0])]}
    assert matrix["include"][0]["timeout_minutes"] == 2
    assert matrix["include"][0]["runs_on"] == ["ubuntu-latest"]
    assert yaml.safe_load(render(plan, "gitlab", None)) == gitlab_pipeline(plan)
    assert json.loads(render(plan, "json", None)) == {
        "jobs": [matrix_entry(plan.jobs[0])],
        "notices": ["n'1"],
    }
    script = render(plan, "script", None)
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "\necho '== deploy m v1.0.0 to prod (production)'\nx\n" in script


def test_user_folder_wins_and_falls_back(tmp_path: Path) -> None:
    (tmp_path / "plan.json.j2").write_text('{"mine": {{ plan.notices | tojson }}}')
    plan = DispatchPlan(notices=["a"])
    assert json.loads(render(plan, "json", tmp_path)) == {"mine": ["a"]}
    assert json.loads(render(plan, "github", tmp_path)) == {"include": []}
    with pytest.raises(StagetagError, match="not found"):
        render_document("nope.json.j2", {}, tmp_path)


def test_document_templates_refuse_pasted_text(tmp_path: Path) -> None:
    (tmp_path / "plan.json.j2").write_text('{"n": "{{ plan.notices[0] }}"}')
    with pytest.raises(StagetagError, match=r"`\| tojson` or `\| toyaml`"):
        render(DispatchPlan(notices=['", "evil": "']), "json", tmp_path)


def test_a_template_that_loops_without_printing_is_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Output size cannot bound a loop that prints nothing; time does."""
    from stagetag.dispatcher import render

    monkeypatch.setattr(render, "MAX_SECONDS", 1)
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    with pytest.raises(StagetagError, match="runs too long"):
        render.render_command(loop + "echo", {})
