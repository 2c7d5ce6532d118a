"""``encode_payload`` (pydantic-core's serializer) writes what a ``json`` encoder with the same
settings writes for every checked payload: the same text, except some floats with a negative
exponent, written in another form of the same number."""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.events.payload import check_payload, encode_payload

REFERENCE = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def json_values(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    values = st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.text(max_size=6), inner, max_size=4),
        ),
        max_leaves=20,
    )
    return st.dictionaries(st.text(max_size=8), values, max_size=6)


NO_FLOATS = st.one_of(st.none(), st.booleans(), st.integers(), st.text())
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


class Colour(enum.StrEnum):
    RED = "red"


class Size(enum.IntEnum):
    LARGE = 3


@settings(max_examples=300, deadline=None)
@given(json_values(NO_FLOATS))
def test_the_same_text_as_json_without_floats(payload: dict[str, Any]) -> None:
    check_payload(payload, 1 << 30)  # only checked payloads are encoded
    assert encode_payload(payload) == REFERENCE.encode(payload)


@settings(max_examples=300, deadline=None)
@given(json_values(st.one_of(NO_FLOATS, FLOATS)))
def test_the_same_value_as_json_and_the_same_text_but_for_negative_exponents(
    payload: dict[str, Any],
) -> None:
    check_payload(payload, 1 << 30)
    text, reference = encode_payload(payload), REFERENCE.encode(payload)
    assert json.loads(text) == json.loads(reference)
    if "e-" not in reference:
        assert text == reference


def test_floats_keep_their_value_in_either_form() -> None:
    values = [0.1, -0.0, 1.5, 1e16, 1e-07, 1e-05, 3.3e-08, 5e-324, 1.7976931348623157e308]
    text = encode_payload({"v": values})
    assert json.loads(text) == {"v": values}
    assert text == '{"v":[0.1,-0.0,1.5,1e+16,1e-7,0.00001,3.3e-8,5e-324,1.7976931348623157e+308]}'


def test_subclasses_and_tuples_encode_as_their_json_type() -> None:
    payload = OrderedDict(colour=Colour.RED, size=Size.LARGE, pair=(1, "a"), name="Zoë\n")
    assert encode_payload(payload) == REFERENCE.encode(payload)
    assert encode_payload(payload) == '{"colour":"red","size":3,"pair":[1,"a"],"name":"Zoë\\n"}'


def test_escapes_and_the_largest_integers_are_json_s() -> None:
    text = "".join(chr(n) for n in range(0x80)) + "\u2028\u2029\U0010ffff"
    big = 2**13_999  # the largest integer the check lets through is about this size
    payload = {"text": text, "big": big, "small": -big}
    check_payload(payload, 1 << 30)
    assert encode_payload(payload) == REFERENCE.encode(payload)
