"""``decode_entry`` parses payloads with pydantic-core, not ``json``: a differential check.

The fast path may use a different parser only because of one property, checked here on
random JSON values, on texts near valid JSON (cut, spliced, with bytes flipped) and on a list
of known differences between parsers: whatever pydantic-core accepts, ``json.loads`` accepts
with an equal value; and whatever the text, ``decode_entry`` gives the envelope
``Envelope.from_fields`` gives (which parses with ``json``), or fails with its message.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import from_json

from app.core.events.envelope import Envelope
from app.core.events.exceptions import MalformedEnvelopeError
from tests.transports.redis_streams.harness import envelope
from transports.redis_streams import decode_entry

FIELDS = {k.encode(): v.encode() for k, v in envelope(n=1).to_fields().items()}

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()  # NaN and the infinities too: both parsers read them
    | st.text(),  # lone surrogates included: json.dumps escapes them as \ud800
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
KNOWN_DIFFERENCES = [
    b'{"a":"\\ud800"}',  # a lone surrogate: json reads it, pydantic-core refuses
    b'{"a":"\\udc00x"}',
    b'{"a":1,"a":2}',  # duplicate keys: the last wins in both
    b'{"a":' + b"9" * 5000 + b"}",  # past CPython's int-to-str limit
    b'{"a":1e400}',
    b'{"a":-0.0}',
    b'{"a":1.0000000000000002}',
    b' {"a":1} ',
    b'{"a":1}x',
    b'{"a":"\xff"}',
    b'{"a":"\x00"}',
    b"\xef\xbb\xbf{}",  # a UTF-8 byte-order mark
    b'{"a":' + b"[" * 250 + b"]" * 250 + b"}",  # past pydantic-core's nesting limit
    b'{"a":01}',
    b'{"a":.5}',
    b'{"\\ud83d\\ude00":"\\u00e9"}',
]


def _same(left: Any, right: Any) -> bool:
    """Equal JSON values, of the same types all the way down (NaN equal to NaN)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, float):
        return (math.isnan(left) and math.isnan(right)) or left == right
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_same(v, right[k]) for k, v in left.items())
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return bool(left == right)


def _check(raw: bytes) -> None:
    try:
        fast = from_json(raw)
    except ValueError:
        fast = None
    else:
        assert _same(fast, json.loads(raw)), raw
    fields = {**FIELDS, b"payload": raw}
    try:
        expected = Envelope.from_fields(fields)
    except MalformedEnvelopeError as refused:
        with pytest.raises(MalformedEnvelopeError) as got:
            decode_entry(fields)
        assert str(got.value) == str(refused)
        return
    decoded = decode_entry(fields)
    assert _same(decoded.payload, expected.payload)
    assert decoded.payload_json() == expected.payload_json() == raw.decode()
    assert (decoded.id, decoded.version, decoded.causation_id) == (
        expected.id,
        expected.version,
        expected.causation_id,
    )


@pytest.mark.parametrize("raw", KNOWN_DIFFERENCES)
def test_known_parser_differences_decode_like_from_fields(raw: bytes) -> None:
    _check(raw)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.booleans())
def test_json_values_decode_like_from_fields(value: Any, ascii_only: bool) -> None:
    _check(json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass"))


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES, st.data())
def test_damaged_json_decodes_like_from_fields(value: Any, data: st.DataObject) -> None:
    raw = bytearray(json.dumps({"v": value}, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw)))
        action = data.draw(st.sampled_from(["cut", "insert", "flip"]))
        if action == "cut":
            del raw[at : at + data.draw(st.integers(1, 4))]
        elif action == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=4))
        elif raw:
            raw[min(at, len(raw) - 1)] ^= data.draw(st.integers(1, 255))
    _check(bytes(raw))
