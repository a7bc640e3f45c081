"""The pieces of signed stage tags that need no remote: SSH keys read as ssh-keygen writes
them, signatures found where git and GTO find them, and `promotion: signers:` / `signed:`
checked with the file, the line and the key in every error."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from conftest import GitRepo, ssh_key

from stagetag import signing
from stagetag.errors import StagetagError
from stagetag.policy import Signers, load_policy
from stagetag.settings import load_settings
from stagetag.signing import fingerprint, parse_key, read_key, refusal, signature_of


def test_a_key_is_read_as_its_file_holds_it(tmp_path: Path) -> None:
    key, _ = ssh_key(tmp_path, "bot")
    assert read_key(key) == key.read_text()


def test_a_key_pasted_with_crlf_and_blank_lines_is_the_same_key(tmp_path: Path) -> None:
    key, _ = ssh_key(tmp_path, "bot")
    text = key.read_text()
    pasted = "\n  " + text.replace("\n", "\r\n") + "\r\n\n"
    assert parse_key(pasted, "input") == text


def test_errors_name_where_the_key_came_from_never_its_content(tmp_path: Path) -> None:
    key, _ = ssh_key(tmp_path, "bot")
    lines = key.read_text().splitlines()
    swapped = "\n".join([lines[0], *reversed(lines[1:-1]), lines[-1]])
    with pytest.raises(StagetagError) as caught:
        parse_key(swapped, "input 'signing_key'")
    assert str(caught.value).startswith("input 'signing_key' is not a readable OpenSSH")
    assert not any(line in str(caught.value) for line in lines[1:-1])


def test_a_missing_key_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(StagetagError, match=r"cannot read the signing key .*No such file"):
        read_key(tmp_path / "absent")


def test_the_signature_is_the_last_line_that_starts_one(repo: GitRepo, tmp_path: Path) -> None:
    key, public = ssh_key(tmp_path / "keys", "bot")
    head = repo.commit("c1")
    repo.ssh_signed_tag("ssh", head, "2024-01-01T00:00:00+0000", "signed", key)
    repo.tag("quoted", head, "2024-01-01T00:00:00+0000", "a\n-----BEGIN SSH SIGNATURE-----\nx\n")
    repo.tag("plain", head, "2024-01-01T00:00:00+0000", "plain")
    raw = {n: repo.git("cat-file", "tag", n).encode() + b"\n" for n in ("ssh", "quoted", "plain")}
    found = signature_of(raw["ssh"])
    assert found.kind == "ssh"
    assert base64.b64encode(found.public_blob).decode() == public.split()[1]
    listed = subprocess.run(
        ["ssh-keygen", "-l", "-f", str(key)], capture_output=True, text=True, check=True
    )
    assert fingerprint(found.public_blob) == listed.stdout.split()[1]
    assert signature_of(raw["quoted"]).kind == "ssh" and not signature_of(raw["quoted"]).public_blob
    assert signature_of(raw["plain"]).kind == "none"
    assert signature_of(b"m\n-----BEGIN PGP SIGNATURE-----\nx\n").kind == "other"
    assert signature_of(b"m-----BEGIN SSH SIGNATURE-----\nx\n").kind == "none"  # mid-line


def test_what_refuses_a_tag_for_a_signed_stage(repo: GitRepo, tmp_path: Path) -> None:
    key, public = ssh_key(tmp_path / "keys", "bot")
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"bot {public}\n")
    head = repo.commit("c1")
    repo.ssh_signed_tag("good", head, "2024-01-01T00:00:00+0000", "signed", key)
    repo.tag("plain", head, "2024-01-01T00:00:00+0000", "plain")
    repo.tag("garbled", head, "2024-01-01T00:00:00+0000", "a\n-----BEGIN SSH SIGNATURE-----\n")
    assert refusal(repo.path, "good", "prod", signers, "signers") is None
    assert refusal(repo.path, "plain", "prod", signers, "signers") == (
        "stage 'prod' takes only tags signed by a key in signers, and 'plain' is not signed"
    )
    garbled = refusal(repo.path, "garbled", "prod", signers, "signers")
    assert garbled is not None and garbled.endswith("the SSH signature of 'garbled' is unreadable")


def test_signing_needs_ssh_keygen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signing.shutil, "which", lambda name: None)
    with pytest.raises(StagetagError, match="need ssh-keygen, which is not on PATH"):
        signing.require_ssh_keygen()


def settings_error(tmp_path: Path, text: str) -> str:
    (tmp_path / "stagetag.yaml").write_text(text)
    with pytest.raises(StagetagError) as caught:
        load_policy(load_settings(tmp_path))
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("promotion:\n  signers: [a]\n", 2, "signers: expected the path of a file in the"),
        ("promotion:\n  signers: /etc/ssh/keys\n", 2, "signers: expected the path"),
        ("promotion:\n  signers: ../keys\n", 2, "signers: expected the path"),
        ("promotion:\n  signers: ''\n", 2, "signers: expected the path"),
        ("promotion:\n  signers: keys\n", 2, "signers: file 'keys' does not exist"),
        (
            "promotion:\n  signers: ok\n  protected:\n    prod:\n      signed: yes\n",
            5,
            "signed: expected true or false",
        ),
        (
            "promotion:\n  protected:\n    prod:\n      signed: true\n",
            4,
            "signed: needs promotion.signers",
        ),
        (
            "promotion:\n  protected:\n    prod:\n      sign: true\n",
            4,
            "sign: unknown key (known: actors, branches, signed)",
        ),
    ],
)
def test_bad_signing_settings_name_the_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    (tmp_path / "ok").write_text("")
    assert settings_error(tmp_path, text).startswith(
        f"{tmp_path / 'stagetag.yaml'}:{line}: {words}"
    )


def test_signing_settings(tmp_path: Path) -> None:
    (tmp_path / ".stagetag").mkdir()
    (tmp_path / ".stagetag" / "allowed_signers").write_text("")
    (tmp_path / "stagetag.yaml").write_text(
        "promotion:\n  signers: ./.stagetag/allowed_signers\n  protected:\n"
        "    prod:\n      signed: true\n    staging:\n      actors: [bot]\n"
    )
    policy = load_policy(load_settings(tmp_path))
    path = tmp_path / ".stagetag" / "allowed_signers"
    assert policy.signers == Signers(".stagetag/allowed_signers", path)
    assert policy.signed_stages() == {"prod"}
