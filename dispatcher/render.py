"""Jinja, sandboxed and strict: command templates with every value shell-quoted, and
document templates (matrix, pipeline, script, plan) that serialize data instead of pasting it.

Values in a command template come from tags, messages and annotation files, which anyone who
can push may choose: `{{ value }}` is always shell-quoted, `{{ value | raw }}` opts out.
Document templates get their data as Python structures and write it with `tojson`/`toyaml`,
so no value is ever concatenated into JSON or YAML.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment

from stagetag.errors import StagetagError

BUILTIN_TEMPLATES = Path(__file__).with_name("templates")


class Raw(str):
    """Text a command template writes as is (already quoted, or trusted)."""


def _shell_finalize(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, (list, tuple)):
        return " ".join(shlex.quote(str(v)) for v in value)
    return shlex.quote("" if value is None else str(value))


def _shquote(value: Any) -> Raw:
    return Raw(_shell_finalize(value))


def _tojson(value: Any) -> Raw:
    return Raw(json.dumps(value, separators=(",", ":"), ensure_ascii=True))


def _toyaml(value: Any) -> Raw:
    return Raw(yaml.safe_dump(value, sort_keys=False, allow_unicode=False, width=1000))


def _data_finalize(value: Any) -> str:
    """In JSON and YAML templates a value must go through `tojson` or `toyaml`."""
    if isinstance(value, Raw):
        return str(value)
    raise StagetagError(
        f"a JSON or YAML template inserted {str(value)[:40]!r} as text; write values with "
        "`| tojson` or `| toyaml`"
    )


def _environment(finalize: Any, loader: jinja2.BaseLoader | None = None) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=finalize,
    )
    env.filters.update(shquote=_shquote, raw=Raw, tojson=_tojson, toyaml=_toyaml)
    return env


_COMMANDS = _environment(_shell_finalize)
_TEXT = _environment(None)  # names (environment, concurrency group): data, never a command


def check_command_template(source: str) -> None:
    """Fail early, at config load, on a template that cannot compile."""
    try:
        _COMMANDS.from_string(source)  # compiling also finds unknown filters and tests
    except jinja2.TemplateError as e:
        raise StagetagError(f"template error: {e.message}") from None


def render_command(source: str, context: dict[str, Any]) -> str:
    """One shell command from a template; every inserted value is shell-quoted."""
    return _render(_COMMANDS, source, context)


def render_text(source: str, context: dict[str, Any]) -> str:
    """A name from a template, as plain text; it is only ever written as data."""
    return " ".join(_render(_TEXT, source, context).split())


def _render(env: SandboxedEnvironment, source: str, context: dict[str, Any]) -> str:
    try:
        return env.from_string(source).render(context).strip()
    except jinja2.UndefinedError as e:
        known = ", ".join(sorted(context))
        raise StagetagError(f"template {source!r}: {e.message} (known: {known})") from None
    except jinja2.TemplateError as e:
        raise StagetagError(f"template {source!r}: {e}") from None


def render_document(name: str, data: dict[str, Any], folder: Path | None) -> str:
    """A whole output (`github-matrix.json.j2`, ...) from the user's folder or the built-ins."""
    folders = [str(f) for f in (folder, BUILTIN_TEMPLATES) if f is not None]
    finalize = _shell_finalize if name.endswith(".sh.j2") else _data_finalize
    env = _environment(finalize, jinja2.FileSystemLoader(folders))
    try:
        return env.get_template(name).render(data)
    except jinja2.TemplateNotFound:
        raise StagetagError(f"template {name!r} not found in {', '.join(folders)}") from None
    except jinja2.UndefinedError as e:
        known = ", ".join(sorted(data))
        raise StagetagError(f"template {name!r}: {e.message} (known: {known})") from None
    except jinja2.TemplateError as e:
        raise StagetagError(f"template {name!r}: {e}") from None
