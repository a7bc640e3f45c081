"""The deploy command the tests configure: a script that records how it was called, so that a
test reads back what a real runner (or `stagetag dispatch --run`) handed to it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# One JSON line per call, appended to $REC_FILE (else records.jsonl in the working folder):
# the arguments, the working folder, the STAGETAG_* variables and GitLab's environment name.
RECORDER = f"""#!{sys.executable}
import json, os, sys
env = {{k: v for k, v in os.environ.items() if k.startswith("STAGETAG_")}}
record = {{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": env,
          "environment": os.environ.get("CI_ENVIRONMENT_NAME")}}
with open(os.environ.get("REC_FILE") or "records.jsonl", "a", encoding="utf-8") as out:
    out.write(json.dumps(record) + "\\n")
"""


def add_recorder(path: Path) -> Path:
    """Write the recording script to `path` (executable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(RECORDER, encoding="utf-8")
    path.chmod(0o755)
    return path


def records(path: Path) -> list[dict[str, Any]]:
    """What the script recorded in `path`, one dict per call; none if it never ran."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
