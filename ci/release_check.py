"""Check that a release tag and the tree agree, before release.yml publishes anything.

    git tag -l | python3 ci/release_check.py vX.Y.Z OWNER/NAME

The version lives in pyproject.toml; action.yml, the GitLab components and the examples name the
released image (ghcr.io/owner/name:X.Y.Z) and the components (.../assign@X.Y.Z) with it. A tag
that disagrees with any of them would publish an action whose image does not exist, so each
mismatch is named and nothing is released. Prints, for GITHUB_OUTPUT, `version=X.Y.Z`,
`image=ghcr.io/owner/name`, and `floating=` the moving names this release takes over (`X.Y`,
`X`): only those it is the newest release of, read from the repository's tags on stdin, so a
patch to an older line never moves `v1` or `:1` backwards.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ("action.yml", "templates/*.yml", "examples/workflows/*.yml", "README.md")


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
    # the image as ghcr.io/owner/name:VERSION, the components as owner/name/COMPONENT@VERSION
    reference = re.compile(
        rf"(?:{re.escape(image)}:|(?<![\w.-]){re.escape(repository.lower())}/[\w-]+@)(\d[\w.-]*)"
    )
    for pattern in FILES:
        for path in sorted(root.glob(pattern)):
            for line_number, line in enumerate(path.read_text().splitlines(), start=1):
                for match in reference.finditer(line.lower()):
                    if match[1] != declared:
                        where = f"{path.relative_to(root)}:{line_number}"
                        found.append(f"{where} names {match[0]}, not version {declared}")
    action = (root / "action.yml").read_text()
    if f"image: docker://{image}:{declared}" not in action:
        found.append(f"action.yml must run image: docker://{image}:{declared}")
    return version, image, found


def _release(tag: str) -> tuple[int, int, int] | None:
    match = re.fullmatch(r"v(\d+)\.(\d+)\.(\d+)", tag.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def floating(version: str, tags: list[str]) -> list[str]:
    """The moving names (`X.Y`, `X`) whose newest release `version` is among `tags`."""
    this = _release(f"v{version}")
    assert this is not None
    releases = [r for tag in tags if (r := _release(tag)) is not None] + [this]
    names = []
    if this == max(r for r in releases if r[:2] == this[:2]):
        names.append(f"{this[0]}.{this[1]}")
    if this == max(r for r in releases if r[0] == this[0]):
        names.append(f"{this[0]}")
    return names


def main(argv: list[str], tags: list[str]) -> int:
    if len(argv) != 2:
        print("usage: git tag -l | release_check.py vX.Y.Z OWNER/NAME", file=sys.stderr)
        return 2
    version, image, found = problems(argv[0], argv[1])
    for problem in found:
        print(f"release_check: {problem}", file=sys.stderr)
    if found:
        return 1
    print(f"version={version}\nimage={image}\nfloating={' '.join(floating(version, tags))}")
    return 0


if __name__ == "__main__":
    piped = sys.stdin is not None and not sys.stdin.isatty()
    sys.exit(main(sys.argv[1:], sys.stdin.read().split() if piped else []))
