"""Seeded random GTO registries in real git repositories, for differential tests against gto.

Stresses what a reimplementation most easily gets wrong: same-second ties (tag times come from a
small pool of seconds), tagger offsets, counters that disagree with time, simple and counter
forms, unassignments, deregistrations, deprecations, SHA pseudo-versions, lightweight GTO-named
tags, non-GTO tags, monorepo names (and names that extend others: `m`, `m/x`), refs packed
midway (packed-refs and loose refs together) and a `.gto` stage list. It avoids the states
where gto fails for the whole repository (`@created` tags, two versions of one artifact on one
commit, one version name on two commits, an invalid `.gto`): those are tested elsewhere.

It also writes `artifacts.yaml` (labels and descriptions with spaces, emoji, HTML, unicode and
escaped control characters, missing and extra keys, paths) and `dvc.yaml` files at random
commits, and writes some tags as raw tag objects: messages with NUL bytes, control characters
and CRLF, and tagger dates gto still reads (before 1970, far in the future, odd zones). It avoids
what gto fails on for the whole repository (invalid UTF-8, dates beyond year 9999, annotations
gto's model rejects): test_odd_objects.py covers those.

Runs git through conftest's helpers, so the caller must provide the pinned environment.
"""

from __future__ import annotations

import json
import random
import shlex
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from conftest import make_repo

ARTIFACTS = [
    "m",
    "m/x",  # another artifact whose name starts with `m`, `a` and `svc/api:model`'s
    "a",
    "a-b",
    "Churn_Model",
    "nlp-v2",
    "team/model",
    "X1",
    "svc/api:model",
    "dir.x/sub_1:Name_B",
    "deep/dir-1:sub/m",
    "svc/api:model-2",
]
STAGES = ["prod", "dev", "staging", "qa", "Prod", "team/prod", "canary_1", "uat-2", "prod-5"]
UNUSED_STAGES = ["archive", "uat", "Live"]
VERSIONS = [
    "v0.0.1",
    "v0.0.2",
    "v0.1.0",
    "v1.0.0",
    "v1.0.0-rc.1",
    "v1.0.0-rc.2",
    "v1.0.0-alpha",
    "v1.0.0+build.5",
    "v1.0.0-beta.-1",
    "v1.2.3-rc.1+b.7",
    "v1.10.0",
    "v2.0.0",
    "v10.0.0",
]
NON_GTO_TAGS = ["release-1.0", "v1.0.0", "nightly", "m@1.0", "m@vfoo#3", "build/42", "x#"]
ODD_MESSAGES = [
    "hand-written message",
    "Déployé en production é",
    "line one\nline two\n\n  indented\n",
    "  padded on both sides  ",
    "Registering artifact something-else version v9.9.9",
    "emoji 🚀 and quotes \"'",
]
OFFSETS = [0, 0, 0, 330, -420, 60, -150, 845]
# Raw tag objects: message bytes `git tag -m` cannot write, dates and zones it would normalise.
ODD_BYTES = [
    b"hello\x00world",
    b"\x00",
    b"a\x01b\x1bc\x7fd",
    b"line one\r\nline two\r\n",
    b"lone\rreturn",
    "tab\tand \u2028 separator \u0085 and nbsp\u00a0".encode(),
    b"",
    b"  \n\n  ",
]
ODD_DATES = [b"-5 +0000", b"0 +0000", b"86400 -0100", b"32503680000 +0000", b"99999999999 +0000"]
ODD_ZONES = [b"+0090", b"+5", b"-000130", b"--0100", b"+2359"]
ANNOTATED = ["m", "a", "Churn_Model", "nlp-v2", "team/model", "X1", "only-annotated", "ann/x"]
LABELS = ["tabular", "with space", "<script>alert(1)</script>", "🚀 rocket", "a|b", "", "é", "x"]
DESCRIPTIONS = [
    "Churn model",
    "<b>bold</b> & <i>html</i>",
    "pipes | in | text",
    "line one\nline two",
    "ctrl \x01 and nul \x00",
    "émoji 🚀 ünïcode 漢字",
    "",
]
BASE_TIME = datetime(2024, 3, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class TagSpec:
    """One tag as created; `date` None means a lightweight tag."""

    name: str
    target: str
    date: str | None
    message: str
    raw: bytes | None = None  # a tag object written with `git hash-object --literally`


@dataclass
class Registry:
    """What was generated, so tests know what to query and failures can be reproduced."""

    path: Path
    seed: int
    commits: list[str] = field(default_factory=list)
    tags: list[TagSpec] = field(default_factory=list)
    artifacts: dict[str, set[str]] = field(default_factory=dict)
    config: str | None = None
    annotated: list[str] = field(default_factory=list)  # in artifacts.yaml at HEAD

    def script(self) -> str:
        """A bash script that rebuilds the tags on top of the same commits, for bug reports."""
        lines = [f"# seed {self.seed}; commits: {' '.join(c[:7] for c in self.commits)}"]
        for tag in self.tags:
            quoted = shlex.quote(tag.name)
            if tag.raw is not None:
                lines.append(
                    f"git update-ref refs/tags/{quoted} $(printf %s {shlex.quote(repr(tag.raw))}"
                    " | git hash-object -t tag -w --literally --stdin)  # the bytes of a repr"
                )
            elif tag.date is None:
                lines.append(f"git tag {quoted} {tag.target[:7]}")
            else:
                lines.append(
                    f"GIT_COMMITTER_DATE={tag.date} git tag -a {quoted} --cleanup=verbatim"
                    f" -m {shlex.quote(tag.message)} {tag.target[:7]}"
                )
        if self.config is not None:
            lines.append(f"printf %s {shlex.quote(self.config)} > .gto")
        return "\n".join(lines)


class _Builder:
    """Keeps the invariants gto needs (one version per commit and per name) while adding tags."""

    def __init__(self, rng: random.Random, path: Path, seed: int) -> None:
        self.rng = rng
        self.repo = make_repo(path)
        self.registry = Registry(path, seed)
        self.seconds = [rng.randrange(0, 10 * 86400) for _ in range(rng.randint(2, 6))]
        self.counters: dict[str, int] = {}
        # artifact -> {version: commit}; a commit holds at most one version per artifact.
        self.versions: dict[str, dict[str, str]] = {}
        self.assigned: list[tuple[str, str, str]] = []

    def build(self, n_tags: int) -> Registry:
        rng = self.rng
        for index in range(rng.randint(2, 6)):
            day = BASE_TIME - timedelta(days=30 - index)
            if rng.random() < 0.4:
                self._write_annotations()
            if rng.random() < 0.15:
                self._write_dvc_yaml()
            self.registry.commits.append(self.repo.commit(f"c{index + 1}", _git_date(day, 0)))
        if rng.random() < 0.2:
            self._side_branch_commit()
        artifacts = rng.sample(ARTIFACTS, rng.randint(1, 4))
        actions = [
            (self._register, 5),
            (self._assign, 6),
            (self._unassign, 2),
            (self._deregister, 1),
            (self._deprecate, 1),
            (self._lightweight, 1),
            (self._non_gto, 1),
        ]
        pack_at = rng.choice([None, n_tags // 2, n_tags])
        for _ in range(50 * n_tags):  # actions may decline (nothing left to register): bounded
            if len(self.registry.tags) == pack_at:
                self.repo.git("pack-refs", "--all")
                pack_at = None
            if len(self.registry.tags) >= n_tags:
                break
            action = rng.choices([a for a, _ in actions], [w for _, w in actions])[0]
            action(rng.choice(artifacts))
        if rng.random() < 0.35:
            self._write_config()
        return self.registry

    def _write_annotations(self) -> None:
        """An `artifacts.yaml` gto reads: labels and types it never checks on reads, missing
        and extra keys, YAML flow or block style; the artifacts at HEAD become queryable."""
        rng = self.rng
        path = self.registry.path / "artifacts.yaml"
        if rng.random() < 0.15 and path.exists():
            path.unlink()
            self.registry.annotated = []
            return
        names = rng.sample(ANNOTATED, rng.randint(0, 3))
        lines = []
        for name in names:
            entry: dict[str, object] = {}
            if rng.random() < 0.5:
                entry["type"] = rng.choice(["model", "dataset", "deep learning <b>", "", None])
            if rng.random() < 0.4:
                entry["path"] = rng.choice(["models/m.pkl", "data dir/x.csv", "../up", None])
            if rng.random() < 0.5:
                entry["labels"] = rng.sample(LABELS, rng.randint(0, 3))
            if rng.random() < 0.5:
                entry["description"] = rng.choice(DESCRIPTIONS)
            if rng.random() < 0.2:
                entry["virtual"] = rng.choice([True, False, "yes", "off", 0, 1])
            if rng.random() < 0.2:
                entry["custom"] = rng.choice([{"owner": "team-a", "n": [1, 2.5]}, "text", 7])
            if rng.random() < 0.15:
                entry["colour"] = "an extra key gto ignores"
            if rng.random() < 0.5:
                lines.append(f"{name}: {json.dumps(entry, ensure_ascii=False)}")
            else:
                lines.append(f"{name}:" + ("" if entry else " {}"))
                lines += [f"  {k}: {json.dumps(v, ensure_ascii=False)}" for k, v in entry.items()]
        path.write_text("\n".join(lines) + "\n" if lines else "{}\n", encoding="utf-8")
        self.registry.annotated = names

    def _write_dvc_yaml(self) -> None:
        """DVC's annotations: gto never reads them, so neither may stagetag's JSON."""
        rng = self.rng
        folder = self.registry.path / rng.choice(["", "svc/api", "dir.x/sub_1"])
        folder.mkdir(parents=True, exist_ok=True)
        name = rng.choice(["m", "model", "Name_B", "a"])
        label = json.dumps(rng.choice(LABELS), ensure_ascii=False)
        (folder / "dvc.yaml").write_text(
            f"artifacts:\n  {name}:\n    path: model.pkl\n    type: model\n"
            f"    desc: {json.dumps(rng.choice(DESCRIPTIONS), ensure_ascii=False)}\n"
            f"    labels: [{label}]\n",
            encoding="utf-8",
        )

    def _side_branch_commit(self) -> None:
        """A commit reachable only from its tags: gto reads tags whatever branch they are on."""
        self.repo.git("checkout", "-q", "-b", "side")
        day = BASE_TIME - timedelta(days=10)
        self.registry.commits.append(self.repo.commit("side", _git_date(day, 0)))
        self.repo.git("checkout", "-q", "main")

    def _suffix(self, artifact: str, simple: bool) -> str:
        """Counters increase with gaps; tag times are drawn independently, so they disagree."""
        if simple:
            return ""
        counter = self.counters.get(artifact, 0) + self.rng.choice([1, 1, 1, 2, 7])
        self.counters[artifact] = counter
        return f"#{counter}"

    def _add(self, name: str, target: str, artifact: str, message: str, stage: str = "") -> None:
        if any(tag.name == name for tag in self.registry.tags):
            return
        rng = self.rng
        second = rng.choice(self.seconds) if rng.random() < 0.9 else rng.randrange(10 * 86400)
        date = _git_date(BASE_TIME + timedelta(seconds=second), rng.choice(OFFSETS))
        if rng.random() < 0.2:
            message = rng.choice(ODD_MESSAGES)
        if rng.random() < 0.15:
            self._raw_tag(name, target, second)
        else:
            self.registry.tags.append(TagSpec(name, target, date, message))
            self.repo.tag(name, target, date, message)
        stages = self.registry.artifacts.setdefault(artifact, set())
        if stage:
            stages.add(stage)

    def _raw_tag(self, name: str, target: str, second: int) -> None:
        """A tag object written directly: odd message bytes, or a date or zone gto reads as
        it is written (git would normalise it)."""
        rng = self.rng
        epoch = int((BASE_TIME + timedelta(seconds=second)).timestamp())
        when = f"{epoch} +0000".encode()
        if rng.random() < 0.3:
            when = rng.choice(ODD_DATES)
        elif rng.random() < 0.3:
            when = f"{epoch} ".encode() + rng.choice(ODD_ZONES)
        body = rng.choice(ODD_BYTES) + rng.choice([b"", b"\n"])
        raw = (
            f"object {target}\ntype commit\ntag {name}\n".encode()
            + b"tagger Odd Tagger <odd@example.com> "
            + when
            + b"\n\n"
            + body
        )
        sha = (
            subprocess.run(
                ["git", "hash-object", "-t", "tag", "-w", "--literally", "--stdin"],
                cwd=self.registry.path,
                input=raw,
                capture_output=True,
                check=True,
            )
            .stdout.decode()
            .strip()
        )
        self.repo.git("update-ref", f"refs/tags/{name}", sha)
        message = body.decode("utf-8")
        self.registry.tags.append(TagSpec(name, target, when.decode(), message, raw))

    def _register(self, artifact: str) -> None:
        known = self.versions.setdefault(artifact, {})
        free_commits = [c for c in self.registry.commits if c not in known.values()]
        free_versions = [v for v in VERSIONS if v not in known]
        if not free_commits or not free_versions:
            return
        version, commit = self.rng.choice(free_versions), self.rng.choice(free_commits)
        known[version] = commit
        name = f"{_in_tag(artifact)}@{version}{self._suffix(artifact, self.rng.random() < 0.6)}"
        self._add(name, commit, artifact, f"Registering artifact {artifact} version {version}")

    def _assign(self, artifact: str) -> None:
        rng = self.rng
        known = self.versions.get(artifact, {})
        if known and rng.random() < 0.8:
            version, commit = rng.choice(sorted(known.items()))
        else:
            commit = rng.choice(self.registry.commits)
            version = next((v for v, c in known.items() if c == commit), commit)
        stage = rng.choice(STAGES[:4] if rng.random() < 0.7 else STAGES)
        self.assigned.append((artifact, stage, commit))
        name = f"{_in_tag(artifact)}#{stage}{self._suffix(artifact, rng.random() < 0.15)}"
        message = f"Assigning stage {stage} to artifact {artifact} version {version}"
        self._add(name, commit, artifact, message, stage)

    def _unassign(self, artifact: str) -> None:
        rng = self.rng
        candidates = [a for a in self.assigned if a[0] == artifact]
        if candidates and rng.random() < 0.85:
            _, stage, commit = rng.choice(candidates)
        else:
            stage, commit = rng.choice(STAGES[:4]), rng.choice(self.registry.commits)
        known = self.versions.get(artifact, {})
        version = next((v for v, c in known.items() if c == commit), commit)
        name = f"{_in_tag(artifact)}#{stage}!{self._suffix(artifact, rng.random() < 0.1)}"
        message = f"Unassigning stage '{stage}' to artifact '{artifact}' version '{version}'"
        self._add(name, commit, artifact, message, stage)

    def _deregister(self, artifact: str) -> None:
        known = self.versions.get(artifact, {})
        if not known:
            return
        version, commit = self.rng.choice(sorted(known.items()))
        name = f"{_in_tag(artifact)}@{version}!{self._suffix(artifact, self.rng.random() < 0.7)}"
        self._add(name, commit, artifact, f"Deregistering artifact {artifact} version {version}")

    def _deprecate(self, artifact: str) -> None:
        commit = self.rng.choice(self.registry.commits)
        suffix = self._suffix(artifact, self.rng.random() < 0.5)
        name = f"{_in_tag(artifact)}@deprecated{suffix}"
        self._add(name, commit, artifact, f"Deprecating artifact '{artifact}'")

    def _lightweight(self, artifact: str) -> None:
        """Ignored as events, yet GTO-named: only the counter may see them."""
        rng = self.rng
        stage = rng.choice(STAGES[:4])
        form = rng.choice(
            [f"#{stage}#{rng.randint(50, 99)}", f"#{stage}", "@v9.9.9", "@deprecated"]
        )
        name = f"{_in_tag(artifact)}{form}"
        if any(tag.name == name for tag in self.registry.tags):
            return
        commit = rng.choice(self.registry.commits)
        self.registry.tags.append(TagSpec(name, commit, None, ""))
        self.repo.lightweight_tag(name, commit)

    def _non_gto(self, artifact: str) -> None:
        name = self.rng.choice(NON_GTO_TAGS)
        commit = self.rng.choice(self.registry.commits)
        if any(tag.name == name for tag in self.registry.tags):
            return
        date = _git_date(BASE_TIME + timedelta(seconds=self.rng.choice(self.seconds)), 0)
        self.registry.tags.append(TagSpec(name, commit, date, "not a gto tag"))
        self.repo.tag(name, commit, date, "not a gto tag")

    def _write_config(self) -> None:
        """Sometimes hides used stages from the registry view, or lists unused ones."""
        rng = self.rng
        used = sorted(set().union(*self.registry.artifacts.values()))
        pool = used + rng.sample(UNUSED_STAGES, rng.randint(0, 2))
        chosen = rng.sample(pool, rng.randint(0, len(pool)))
        key = rng.choice(["stages", "stages", "STAGES"])
        config = rng.choice([f"{key}: [{', '.join(chosen)}]\n", "", f"{key}:\n"])
        self.registry.config = config
        (self.registry.path / ".gto").write_text(config)


def _in_tag(artifact: str) -> str:
    """`dir:name` is written `dir=name` in tag names."""
    return artifact.replace(":", "=")


def _git_date(moment: datetime, offset_minutes: int) -> str:
    """An ISO date in the given tagger offset, e.g. 2024-03-01T05:30:00+0530."""
    return moment.astimezone(timezone(timedelta(minutes=offset_minutes))).strftime(
        "%Y-%m-%dT%H:%M:%S%z"
    )


def generate(rng: random.Random, path: Path, seed: int = 0) -> Registry:
    """Build a repository at `path` with 5-40 tags; `seed` is only recorded for reports."""
    return _Builder(rng, path, seed).build(rng.randint(5, 40))
