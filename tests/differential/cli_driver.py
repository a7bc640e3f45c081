"""Run many invocations of a click CLI in one interpreter, to avoid paying its start-up per command.

Usage: ``python cli_driver.py MODULE ATTR`` with a JSON list of ``{"argv": [...], "cwd": "..."}`` on
stdin. Prints a JSON list of ``{"stdout": <base64>, "stderr": <text>, "exit": <int>}``: stdout is
base64 so that the comparison stays byte-exact.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import sys
import traceback

from click.testing import CliRunner


def _runner() -> CliRunner:
    """click < 8.2 mixes stderr into stdout unless told not to; 8.2 removed the argument."""
    try:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


def main() -> None:
    module_name, attr = sys.argv[1], sys.argv[2]
    app = getattr(importlib.import_module(module_name), attr)
    runner = _runner()
    results = []
    for item in json.load(sys.stdin):
        os.chdir(item["cwd"])
        result = runner.invoke(app, item["argv"], catch_exceptions=True)
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            stderr += "".join(traceback.format_exception(result.exception))
        results.append(
            {
                "stdout": base64.b64encode(result.stdout_bytes).decode("ascii"),
                "stderr": stderr,
                "exit": result.exit_code,
            }
        )
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
