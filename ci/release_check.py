"""Check that a release tag and the tree agree, before release.yml publishes anything.

    python3 ci/release_check.py vX.Y.Z OWNER/NAME

The version lives in pyproject.toml; action.yml, the GitLab components and the examples name the
released image with it (ghcr.io/owner/name:X.Y.Z). A tag that disagrees with any of them would
publish an action whose image does not exist, so each mismatch is named and nothing is
released. Prints `version=X.Y.Z` and `image=ghcr.io/owner/name` for GITHUB_OUTPUT.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ("action.yml", "templates/*.yml", "examples/workflows/*.yml")


def problems(tag: str, repository: str, root: Path = ROOT) -> tuple[str, str, list[str]]:
    """(version, image, what is wrong); nothing is wrong when the list is empty."""
    found: list[str] = []
    match = re.fullmatch(r"v(\d+\.\d+\.\d+)", tag)
    version = match.group(1) if match else ""
    if not match:
        found.append(f"tag {tag!r} is not vX.Y.Z")
    declared = tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    if version and declared != version:
        found.append(f"pyproject.toml says version {declared}, the tag says {version}")
    image = f"ghcr.io/{repository.lower()}"
    reference = re.compile(re.escape(image) + r":([\w.-]+)")
    for pattern in FILES:
        for path in sorted(root.glob(pattern)):
            for line_number, line in enumerate(path.read_text().splitlines(), start=1):
                for named in reference.findall(line):
                    if named != declared:
                        where = f"{path.relative_to(root)}:{line_number}"
                        found.append(f"{where} names {image}:{named}, not {declared}")
    action = (root / "action.yml").read_text()
    if f"image: docker://{image}:{declared}" not in action:
        found.append(f"action.yml must run image: docker://{image}:{declared}")
    return version, image, found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: release_check.py vX.Y.Z OWNER/NAME", file=sys.stderr)
        return 2
    version, image, found = problems(*argv)
    for problem in found:
        print(f"release_check: {problem}", file=sys.stderr)
    if found:
        return 1
    print(f"version={version}\nimage={image}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
