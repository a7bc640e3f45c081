"""Build synthetic GTO registries of an exact tag count, fast, cached by size.

`git tag` one at a time takes minutes at 50,000 tags. Here commits go through one `git fast-import`
stream and the annotated tags are written as one pack plus a packed-refs file (200,000 tags in
well under a minute). The layout imitates what `gto register` / `gto assign` / `gto deprecate
NAME VERSION STAGE` write: one commit per version, simple registration tags, counter-form stage
tags, verbatim messages with no trailing newline, and some monorepo names, Studio-style counted
registrations and non-GTO tags.

Every artifact has the same size (TAGS_PER_ARTIFACT tags) whatever the registry's: a larger
registry has more artifacts, so that a one-artifact command on `MEASURED` does the same work at
every size and whatever else it spends is the registry's doing. The first commit holds a
`stagetag.yaml` whose `deploy:` section gives every stage a job, for `stagetag dispatch`.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import shutil
import struct
import subprocess
import time
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Bump when the layout changes, so stale cached registries are not reused.
LAYOUT_VERSION = 3
TAGS_PER_ARTIFACT = 200  # a model with ~75 versions and their promotions
MEASURED = "model-000"  # the artifact one-artifact commands are timed on
STAGETAG_YAML = """deploy:
  stages:
    dev: {deploy: "echo deploy {{ name }} {{ version }} to dev"}
    staging: {deploy: "echo deploy {{ name }} {{ version }} to staging"}
    prod:
      environment: production
      deploy: "echo deploy {{ name }} {{ version }} to prod"
"""
CACHE_DIR = Path(__file__).resolve().parent / ".cache"
EPOCH = 1_700_000_000  # 2023-11-14: every timestamp is explicit, so output is reproducible.
STEP_SECONDS = 37
TAGGERS = (
    ("Alice Tester", "alice@example.com", "+0000"),
    ("Bob Builder", "bob@example.com", "+0530"),
    ("Carol Ops", "carol@example.com", "-0700"),
)
NON_GTO_EVERY = 25  # one non-GTO annotated tag per this many tags


@dataclass(frozen=True)
class Registry:
    """A generated repository and what a benchmark needs to know about it: `middle_ref` is an
    assignment of MEASURED halfway through its history (for check-ref), `prod_ref` its last
    prod assignment (for dispatch: a job), `measured_tags` how many tags MEASURED has."""

    path: Path
    tags: int
    artifacts: tuple[str, ...]
    middle_ref: str
    prod_ref: str
    measured_tags: int
    generation_seconds: float


@dataclass
class Artifact:
    """One artifact: its name as written in tags and messages, and its GTO tag counter."""

    tag_name: str
    name: str
    counter: int = 0

    def next_counter(self) -> int:
        self.counter += 1
        return self.counter


@dataclass(frozen=True)
class Tag:
    """An annotated tag still to be written, pointing at a fast-import commit mark."""

    name: str
    mark: int
    tagger: str
    message: str

    def body(self, commit_sha: str) -> bytes:
        """The tag object exactly as GTO writes it: no trailing newline after the message."""
        header = f"object {commit_sha}\ntype commit\ntag {self.name}\ntagger {self.tagger}\n\n"
        return (header + self.message).encode()


@dataclass
class Stream:
    """A fast-import stream of commits, plus the tags to attach to them afterwards."""

    chunks: list[bytes] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    marks: int = 0
    clock: int = EPOCH

    def tick(self) -> int:
        self.clock += STEP_SECONDS
        return self.clock

    def commit(self, path: str, content: str) -> int:
        """A commit changing `path` (the first one also adds stagetag.yaml)."""
        self.marks += 1
        who = f"Alice Tester <alice@example.com> {self.tick()} +0000"
        files = [(path, content)] + [("stagetag.yaml", STAGETAG_YAML)] * (self.marks == 1)
        self.chunks.append(
            f"commit refs/heads/main\nmark :{self.marks}\nauthor {who}\ncommitter {who}\n".encode()
            + data(f"Update {path}")
            + b"".join(f"M 644 inline {name}\n".encode() + data(text) for name, text in files)
        )
        return self.marks

    def tag(self, name: str, mark: int, message: str) -> None:
        tagger_name, email, offset = TAGGERS[len(self.tags) % len(TAGGERS)]
        tagger = f"{tagger_name} <{email}> {self.tick()} {offset}"
        self.tags.append(Tag(name, mark, tagger, message))


def data(text: str) -> bytes:
    """A fast-import `data` block: exact bytes, so messages keep GTO's missing trailing newline."""
    raw = text.encode()
    return f"data {len(raw)}\n".encode() + raw + b"\n"


def make_artifacts(size: int) -> list[Artifact]:
    """One artifact per TAGS_PER_ARTIFACT tags (10 at 2,000 tags, 1,000 at 200,000), the first
    MEASURED; a third of them in folders, a third with a `/` in the name."""
    artifacts = []
    for index in range(max(1, size // TAGS_PER_ARTIFACT)):
        if index % 3 == 1:
            dirname, name = f"services/team{index % 4}", f"clf-{index:03d}"
            artifacts.append(Artifact(f"{dirname}={name}", f"{dirname}:{name}"))
        elif index % 3 == 2:
            artifacts.append(Artifact(f"nlp/encoder-{index:03d}", f"nlp/encoder-{index:03d}"))
        else:
            artifacts.append(Artifact(f"model-{index:03d}", f"model-{index:03d}"))
    return artifacts


def semver(index: int) -> str:
    """A strictly increasing version for the index-th release: v0.0.1 … v0.3.4, v1.0.0 …"""
    number = index + 1
    return f"v{number // 20}.{(number // 5) % 4}.{number % 5}"


def version_tags(artifact: Artifact, index: int, studio: bool) -> Iterator[tuple[str, str]]:
    """The (tag, message) pairs one release produces: register, promote, sometimes unassign."""
    name, version = artifact.name, semver(index)
    suffix = f"#{artifact.next_counter()}" if studio else ""
    yield f"{artifact.tag_name}@{version}{suffix}", f"Registering artifact {name} version {version}"
    stages = ["dev"] + ["staging"] * (index % 2 == 0) + ["prod"] * (index % 4 == 0)
    for stage in stages:
        yield (
            f"{artifact.tag_name}#{stage}#{artifact.next_counter()}",
            f"Assigning stage {stage} to artifact {name} version {version}",
        )
    if index % 6 == 5:
        yield (
            f"{artifact.tag_name}#dev!#{artifact.next_counter()}",
            f"Unassigning stage 'dev' to artifact '{name}' version '{version}'",
        )


def tag_plan(artifacts: list[Artifact]) -> Iterator[tuple[tuple[str, str], str, str]]:
    """Endless (commit file, tag, message) triples: releases round-robin over the artifacts."""
    count = 0
    for index in itertools.count():
        for number, artifact in enumerate(artifacts):
            # one small file for every release: the tree stays two entries deep whatever the
            # number of artifacts (a folder per artifact made each commit write a tree that big)
            commit_file = ("VERSION", f"{artifact.name} {semver(index)}\n")
            for tag, message in version_tags(artifact, index, studio=number % 7 == 3):
                if count % NON_GTO_EVERY == NON_GTO_EVERY - 1:
                    yield commit_file, f"release-{count}", "Nightly release"
                    count += 1
                yield commit_file, tag, message
                count += 1


def build_stream(size: int, artifacts: list[Artifact]) -> Stream:
    """One commit per release, holding all of that release's tags; exactly `size` tags."""
    stream = Stream()
    last_file, mark = ("", ""), 0
    for commit_file, tag, message in itertools.islice(tag_plan(artifacts), size):
        if commit_file != last_file:
            mark, last_file = stream.commit(*commit_file), commit_file
        stream.tag(tag, mark, message)
    return stream


def git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repo), *args], input=stdin, check=True, capture_output=True
    ).stdout


def write_repo(path: Path, stream: Stream) -> None:
    """Commits via fast-import; tags as one pack plus a packed-refs file, as a fresh clone has.

    fast-import would write each tag as a loose ref (about 6 s at 50,000 tags, and 3 s more for
    `git pack-refs`); writing the pack and packed-refs directly takes well under a second.
    """
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    marks_file = path / ".git" / "fast-import-marks"
    git(
        path,
        "fast-import",
        "--quiet",
        f"--export-marks={marks_file}",
        stdin=b"".join(stream.chunks),
    )
    commits = dict(line.split() for line in marks_file.read_text().splitlines())
    marks_file.unlink()
    refs = []
    objects = []
    for tag in stream.tags:
        commit_sha = commits[f":{tag.mark}"]
        body = tag.body(commit_sha)
        objects.append(body)
        refs.append((f"refs/tags/{tag.name}", object_sha(body), commit_sha))
    git(path, "index-pack", "--stdin", stdin=pack(objects))
    write_packed_refs(path / ".git" / "packed-refs", refs)
    git(path, "checkout", "-q", "-f", "main")


def object_sha(body: bytes) -> str:
    return hashlib.sha1(b"tag %d\0" % len(body) + body).hexdigest()


def pack(tag_bodies: list[bytes]) -> bytes:
    """A version-2 pack of undeltified tag objects (type 4): header, entries, SHA-1 trailer."""
    parts = [b"PACK" + struct.pack(">II", 2, len(tag_bodies))]
    for body in tag_bodies:
        size = len(body)
        header = bytearray([(4 << 4) | (size & 0x0F)])
        size >>= 4
        while size:
            header[-1] |= 0x80
            header.append(size & 0x7F)
            size >>= 7
        parts.append(bytes(header) + zlib.compress(body, 1))
    content = b"".join(parts)
    return content + hashlib.sha1(content).digest()


def write_packed_refs(packed_refs: Path, refs: list[tuple[str, str, str]]) -> None:
    """The file `git pack-refs` writes: sorted by name, each tag followed by its peeled commit."""
    lines = ["# pack-refs with: peeled fully-peeled sorted \n"]
    for name, tag_sha, commit_sha in sorted(refs, key=lambda ref: ref[0].encode()):
        lines.append(f"{tag_sha} {name}\n^{commit_sha}\n")
    packed_refs.write_text("".join(lines))


def measured_refs(tag_names: list[str]) -> tuple[str, str, int]:
    """MEASURED's first assignment at or after the middle of its history (a typical
    `check-ref` target), its last prod assignment, and how many tags it has."""
    own = [name for name in tag_names if name.startswith((f"{MEASURED}@", f"{MEASURED}#"))]
    middle = next(n for n in own[len(own) // 2 :] if "#" in n and "!" not in n)
    prod = [n for n in own if n.startswith(f"{MEASURED}#prod#")][-1]
    return middle, prod, len(own)


def generate(size: int, destination: Path) -> Registry:
    """Create a registry of exactly `size` tags at `destination` (which must not exist)."""
    start = time.perf_counter()
    artifacts = make_artifacts(size)
    stream = build_stream(size, artifacts)
    write_repo(destination, stream)
    middle, prod, measured = measured_refs([tag.name for tag in stream.tags])
    return Registry(
        path=destination,
        tags=len(stream.tags),
        artifacts=tuple(artifact.name for artifact in artifacts),
        middle_ref=middle,
        prod_ref=prod,
        measured_tags=measured,
        generation_seconds=time.perf_counter() - start,
    )


def cached_registry(size: int, cache_dir: Path = CACHE_DIR) -> tuple[Registry, bool]:
    """Return the registry for `size`, generating it once; the flag says whether it was cached.

    The metadata file is written last, next to the repository, so its presence means complete.
    """
    target = cache_dir / f"registry-{size}-layout{LAYOUT_VERSION}"
    meta = cache_dir / f"{target.name}.json"
    if meta.is_file() and target.is_dir():
        return load_meta(target, meta), True
    shutil.rmtree(target, ignore_errors=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    registry = generate(size, target)
    save_meta(registry, meta)
    return registry, False


def save_meta(registry: Registry, meta: Path) -> None:
    fields = {k: v for k, v in asdict(registry).items() if k != "path"}
    meta.write_text(json.dumps(fields, indent=2))


def load_meta(path: Path, meta: Path) -> Registry:
    fields = json.loads(meta.read_text())
    return Registry(path=path, **{**fields, "artifacts": tuple(fields["artifacts"])})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", type=int, help="tag counts, e.g. 2000 50000")
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    args = parser.parse_args()
    for size in args.sizes:
        registry, cached = cached_registry(size, args.cache_dir)
        state = "cached" if cached else "generated"
        print(
            f"{registry.path}: {registry.tags} tags, {len(registry.artifacts)} artifacts "
            f"({MEASURED}: {registry.measured_tags}), {state} "
            f"(generation took {registry.generation_seconds:.2f} s)"
        )


if __name__ == "__main__":
    main()
