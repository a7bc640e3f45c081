"""Jinja, sandboxed and strict: command templates with every value shell-quoted, and
document templates (matrix, pipeline, script, plan) that serialize data instead of pasting it.

Values in a command template come from tags, messages and annotation files, which anyone who
can push may choose: `{{ value }}` is always shell-quoted, `{{ value | raw }}` opts out.
Document templates get their data as Python structures and write it with `tojson`/`toyaml`,
so no value is ever concatenated into JSON or YAML.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment

from stagetag.errors import StagetagError
from stagetag.shell import shell_quote

BUILTIN_TEMPLATES = Path(__file__).with_name("templates")


class Raw(str):
    """Text a command template writes as is (already quoted, or trusted)."""


def _shell_finalize(value: Any) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, (list, tuple)):
        return " ".join(shell_quote(str(v)) for v in value)
    return shell_quote("" if value is None else str(value))


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


# A command runs as one argument of `bash -c`, which Linux caps at 128 KiB; a document (a
# matrix, a pipeline) far beyond any real one is a template or a tag gone wrong.
MAX_COMMAND = 100_000
MAX_DOCUMENT = 10_000_000


class _Bounded(SandboxedEnvironment):
    """The sandbox, plus bounds on what a template can make: `range` is capped by Jinja's
    sandbox already; `*` and `**` are checked here, output size while rendering."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            sized, count = (left, right) if isinstance(right, int) else (right, left)
            size = len(sized) if hasattr(sized, "__len__") else 0
            if isinstance(count, int) and size * count > MAX_DOCUMENT:
                raise _TooLarge(f"a repetition of {size * count} items")
        if operator == "**" and isinstance(right, int) and abs(right) > 1000:
            raise _TooLarge(f"a power of {right}")
        if operator == "**" and isinstance(left, int) and left.bit_length() * right > 10**6:
            raise _TooLarge(f"a power of a {left.bit_length()}-bit number")
        return super().call_binop(context, operator, left, right)


class _TooLarge(Exception):
    """A template asked for more than a render may make."""


class _TooSlow(_TooLarge):
    """A template ran longer than a render may take."""


def _environment(finalize: Any, loader: jinja2.BaseLoader | None = None) -> SandboxedEnvironment:
    env = _Bounded(
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
    command = _render(_COMMANDS, source, context)
    size = len(command.encode("utf-8", "surrogateescape"))
    if size > MAX_COMMAND:  # the kernel counts bytes: 100,000 emoji are 400,000 of them
        raise StagetagError(
            f"template {source[:200]!r}: it makes too much: a command of {size:,} bytes, over "
            f"{MAX_COMMAND:,} (a long tag message or annotation?); pass such values in a file"
        )
    return command


def render_text(source: str, context: dict[str, Any]) -> str:
    """A name from a template, as plain text; it is only ever written as data."""
    return " ".join(_render(_TEXT, source, context).split())


def _render(env: SandboxedEnvironment, source: str, context: dict[str, Any]) -> str:
    try:
        text = _bounded(env.from_string(source), context, MAX_COMMAND).strip()
    except jinja2.UndefinedError as e:
        known = ", ".join(sorted(context))
        raise StagetagError(f"template {source!r}: {e.message} (known: {known})") from None
    except (jinja2.TemplateError, _TooLarge, RecursionError, *_EVALUATION) as e:
        raise StagetagError(f"template {source[:200]!r}: {_why(e)}") from None
    return text


MAX_SECONDS = 10  # a loop that prints nothing (nested ranges) is bounded by time instead


def _bounded(template: jinja2.Template, context: dict[str, Any], limit: int) -> str:
    """Render, stopping as soon as the output passes `limit` characters or MAX_SECONDS."""
    parts, size = [], 0
    with _time_limit(MAX_SECONDS):
        for part in template.generate(context):
            size += len(part)
            if size > limit:
                raise _TooLarge(f"output over {limit:,} characters")
            parts.append(part)
    return "".join(parts)


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """SIGALRM after `seconds` (the main thread only, where signals are delivered)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _TooSlow(f"rendering took over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# What evaluating a template's own expressions raises: `x * 'a'|int`, `10**5000` printed
# (over Python's 4,300-digit limit), `'x'|center(10**12)`. The template's error, not a bug.
_EVALUATION = (ArithmeticError, MemoryError, TypeError, ValueError, LookupError)


def _why(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "it recurses too deeply"
    if isinstance(error, (OverflowError, MemoryError)):
        return f"it asks for too much ({type(error).__name__}: {error})"
    if isinstance(error, _EVALUATION):
        return f"{type(error).__name__}: {error}"
    if isinstance(error, _TooSlow):
        return f"it runs too long: {error}"
    if isinstance(error, _TooLarge):
        return f"it makes too much: {error}"
    return str(error)


def render_document(name: str, data: dict[str, Any], folder: Path | None) -> str:
    """A whole output (`github-matrix.json.j2`, ...) from the user's folder or the built-ins."""
    folders = [str(f) for f in (folder, BUILTIN_TEMPLATES) if f is not None]
    finalize = _shell_finalize if name.endswith(".sh.j2") else _data_finalize
    env = _environment(finalize, jinja2.FileSystemLoader(folders))
    try:
        return _bounded(env.get_template(name), data, MAX_DOCUMENT)
    except jinja2.TemplateNotFound:
        raise StagetagError(f"template {name!r} not found in {', '.join(folders)}") from None
    except jinja2.UndefinedError as e:
        known = ", ".join(sorted(data))
        raise StagetagError(f"template {name!r}: {e.message} (known: {known})") from None
    except (jinja2.TemplateError, _TooLarge, RecursionError, *_EVALUATION) as e:
        raise StagetagError(f"template {name!r}: {_why(e)}") from None
