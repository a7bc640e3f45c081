"""Streamed JSON: byte for byte what `json.dumps(..., indent=4)` (GTO's format) writes."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from contextlib import redirect_stdout
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from stagetag.entrypoint.output import emit_json_list, emit_json_object

SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=12,
)


def printed(emit: Callable[[], None]) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        emit()
    return out.getvalue()


@given(items=st.lists(VALUES, max_size=6))
def test_a_streamed_list_is_json_dumps_of_the_list(items: list[Any]) -> None:
    assert printed(lambda: emit_json_list(iter(items))) == json.dumps(items, indent=4) + "\n"


@given(entries=st.dictionaries(st.text(max_size=5), VALUES, max_size=6))
def test_a_streamed_object_is_json_dumps_of_the_dict(entries: dict[str, Any]) -> None:
    streamed = printed(lambda: emit_json_object(iter(entries.items())))
    assert streamed == json.dumps(entries, indent=4) + "\n"


def test_flat_records_over_many_batches() -> None:
    records = [{"n": n, "text": f"é {n}\n", "none": None, "ok": n % 2 == 0} for n in range(1300)]
    assert printed(lambda: emit_json_list(iter(records))) == json.dumps(records, indent=4) + "\n"
