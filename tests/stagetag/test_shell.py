"""shell_quote: one shell word per value, whatever a tag holds."""

from __future__ import annotations

import subprocess

from hypothesis import given
from hypothesis import strategies as st

from stagetag.shell import shell_quote


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))
def test_a_quoted_value_is_one_word_that_bash_gives_back(text: str) -> None:
    """Whatever a tag holds: bash reads the word back as the value, and the quoted word has
    no control character but newline and tab."""
    word = shell_quote(text)
    assert all(c.isprintable() or c in "\n\t" for c in word)
    out = subprocess.run(  # in the C locale, where bash's `\u` escapes would stay literal
        ["bash", "-c", f"printf %s {word}"],
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    assert out.decode("utf-8", "surrogateescape") == text
