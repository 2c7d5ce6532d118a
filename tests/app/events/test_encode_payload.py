"""``encode_payload`` (one C encoder kept for every call) writes exactly what a fresh
``json`` encoder with the same settings writes, for every checked payload."""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.events.payload import encode_payload

REFERENCE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
    ),
    max_leaves=20,
)


class Colour(enum.StrEnum):
    RED = "red"


class Size(enum.IntEnum):
    LARGE = 3


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), JSON, max_size=6))
def test_the_same_text_as_a_fresh_encoder(payload: dict[str, Any]) -> None:
    assert encode_payload(payload) == REFERENCE.encode(payload)


def test_subclasses_and_tuples_encode_as_their_json_type() -> None:
    payload = OrderedDict(colour=Colour.RED, size=Size.LARGE, pair=(1, "a"), name="Zoë\n")
    assert encode_payload(payload) == REFERENCE.encode(payload)
    assert encode_payload(payload) == '{"colour":"red","size":3,"pair":[1,"a"],"name":"Zoë\\n"}'
