"""SSH-signed tags, as stagetag writes them with `--sign-with KEY` and as anyone makes them with
`git tag -s`, read by gto 1.10.1 exactly as stagetag reads them, and exactly as gto reads the
same registry written unsigned: the signature changes nothing GTO shows."""

from __future__ import annotations

from pathlib import Path

from conftest import GitRepo, make_repo, run_stagetag, ssh_key
from difftest_harness import cli_env, compare, oracle

COMMANDS = [
    ["show", "--json"],
    ["show", "-d", "--json"],
    ["show", "m", "--json"],
    ["show", "m", "-d", "--json"],
    ["show", "m#prod", "--version"],
    ["history", "--json"],
    ["history", "m", "--json"],
    ["check-ref", "m#prod#3", "--json"],
    ["check-ref", "m@v1.0.1", "--json"],
    ["stages", "--json"],
]
# Each write in a second of its own (the tagger date), with the messages GTO strips or keeps.
WRITES = [
    ["register", "m", "HEAD~1", "--version", "v1.0.0"],
    ["assign", "m", "--version", "v1.0.0", "--stage", "prod", "-m", "Ship it\n"],
    ["assign", "m", "HEAD", "--stage", "dev", "-m", "  two\r\nlines  "],
    ["assign", "m", "--version", "v1.0.1", "--stage", "prod"],
    ["unassign", "m", "v1.0.0", "--stage", "dev", "--force", "-m", "no trailing newline"],
    ["register", "n", "--version", "v0.1.0"],
    ["deprecate", "n"],
]


def written(path: Path, key: Path | None) -> GitRepo:
    """The same commits and writes in a new repository, signed with `key` or unsigned."""
    repo = make_repo(path)
    repo.commit("c1", "2024-01-01T12:00:00+0000")
    repo.commit("c2", "2024-01-02T12:00:00+0000")
    signing = ["--sign-with", str(key)] if key is not None else []
    for minute, argv in enumerate(WRITES):
        date = {"GIT_COMMITTER_DATE": f"2024-03-01T00:{minute:02}:00+0000"}
        run_stagetag(*argv, *signing, cwd=repo.path, env=date, check=True)
    return repo


def test_gto_reads_ssh_signed_tags_as_stagetag_and_as_unsigned(tmp_path: Path) -> None:
    key, _ = ssh_key(tmp_path / "keys", "bot")
    signed = written(tmp_path / "signed", key)
    plain = written(tmp_path / "plain", None)
    assert "BEGIN SSH SIGNATURE" in signed.git("cat-file", "tag", "m#prod#1"), signed.git("tag")
    # and a tag signed by hand, `git tag -s -m` (git's cleanup adds the newline)
    for repo in (signed, plain):
        head = repo.git("rev-parse", "HEAD")
        if repo is signed:
            repo.ssh_signed_tag("m#qa#9", head, "2024-03-02T00:00:00+0000", "by hand", key)
        else:
            repo.tag("m#qa#9", head, "2024-03-02T00:00:00+0000", "by hand\n")
    env = cli_env(tmp_path / "home")
    compare(COMMANDS, signed.path, env)
    gto = oracle()
    read = zip(gto.run(COMMANDS, signed.path, env), gto.run(COMMANDS, plain.path, env), strict=True)
    for argv, (mine, theirs) in zip(COMMANDS, read, strict=True):
        assert mine.stdout == theirs.stdout, argv
