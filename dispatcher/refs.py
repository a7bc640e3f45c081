"""Which tags to dispatch: named ones, the CI's triggering tag, or every GTO tag the remote
got since a saved state. Makes sure the clone has the annotated tags it needs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from stagetag import gitio
from stagetag.errors import StagetagError
from stagetag.files import write_whole
from stagetag.gitio import TagRecord
from stagetag.grammar import parse_tag
from stagetag.registry import tag_prefixes
from stagetag.views import ref_artifacts

FETCH_HINT = (
    "fetch the tags: on GitHub use actions/checkout with 'fetch-depth: 0', on GitLab set "
    "GIT_DEPTH: 0, or run 'git fetch --force origin \"+refs/tags/*:refs/tags/*\"'"
)


def triggering_refs(env: Mapping[str, str]) -> list[str]:
    """The tag this CI run is for: GITHUB_REF (a tag push) or CI_COMMIT_TAG."""
    github = env.get("GITHUB_REF", "")
    if github.startswith("refs/tags/"):
        return [github]
    if env.get("CI_COMMIT_TAG"):
        return [env["CI_COMMIT_TAG"]]
    return []


def new_since(tags: list[TagRecord], state_file: Path) -> list[str]:
    """GTO tags not listed in `state_file`, oldest first (a push range between two runs)."""
    try:
        seen = set(state_file.read_text(encoding="utf-8").split())
    except FileNotFoundError:
        raise StagetagError(
            f"state file {str(state_file)!r} does not exist; write one with --save-state"
        ) from None
    except UnicodeDecodeError as e:
        raise StagetagError(
            f"state file {str(state_file)!r} is not UTF-8 text (byte {e.start}), so not one "
            "--save-state wrote; give that file, or delete it and write a new one"
        ) from None
    fresh = [t for t in tags if t.name not in seen and t.annotated and parse_tag(t.name)]
    return [t.name for t in sorted(fresh, key=lambda t: t.stamp.epoch if t.stamp else 0)]


def save_state(tags: list[TagRecord], state_file: Path) -> None:
    write_whole(state_file, "".join(f"{t.name}\n" for t in tags if parse_tag(t.name)))


def ensure_tags(root: Path, refs: list[str], remote: str, fetch: bool) -> None:
    """Every GTO ref must be an annotated tag here. A shallow clone, or a checkout step that
    made the triggering tag lightweight, is repaired by fetching the tags of the refs'
    artifacts once."""
    wanted = {r.removeprefix("refs/tags/") for r in refs if parse_tag(r)}
    if not wanted or not (_missing(root, wanted) or gitio.is_shallow(root)):
        return
    if not fetch:
        missing = ", ".join(sorted(_missing(root, wanted))) or "registration tags"
        raise StagetagError(f"this clone lacks {missing}; {FETCH_HINT}")
    # A tag still absent or lightweight after this is so on the remote too: GTO ignores it,
    # and the plan reports it as nothing to deploy.
    prefixes = tag_prefixes(ref_artifacts(wanted))
    gitio.fetch(root, remote, *(f"+{spec}" for spec in gitio.tag_refspecs(prefixes)))


def _missing(root: Path, wanted: set[str]) -> set[str]:
    """Wanted tags that are not annotated tags here (absent, or lightweight)."""
    annotated = {t.name for t in gitio.read_tags(root, wanted) if t.annotated}
    return wanted - annotated
