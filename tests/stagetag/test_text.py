"""What a message shows of text from tags, files and URLs: no credentials, no control
characters a terminal would act on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stagetag.text import printable, redact, shown


@pytest.mark.parametrize(
    ("url", "seen"),
    [
        ("https://x-access-token:ghs_S3CR3T@github.com/o/r.git", "https://***@github.com/o/r.git"),
        ("http://oauth2:glpat-abc@127.0.0.1:8080/g/p.git", "http://***@127.0.0.1:8080/g/p.git"),
        ("ssh://git@host/o/r", "ssh://***@host/o/r"),
        ("git push to 'https://u:p@h/x' failed: 403", "git push to 'https://***@h/x' failed: 403"),
        ("https://host/o/r.git", "https://host/o/r.git"),
        ("mail me at a@b.c", "mail me at a@b.c"),
    ],
)
def test_credentials_in_urls_are_redacted(url: str, seen: str) -> None:
    assert redact(url) == seen


@given(st.text())
def test_shown_text_is_one_printable_line(text: str) -> None:
    line = shown(text)
    assert line.isprintable()
    if text.isprintable() and "@" not in text:
        assert line == text  # printable text without userinfo is shown as it is


def test_an_escape_sequence_shows_as_text() -> None:
    assert printable("\x1b]0;pwned\x07 ok\n") == "\\x1b]0;pwned\\x07 ok\\n"
