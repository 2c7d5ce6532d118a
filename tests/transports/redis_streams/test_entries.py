"""``decode_entry`` accepts exactly what ``Envelope.from_fields`` accepts, and fails alike."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.events.envelope import Envelope
from app.core.events.exceptions import MalformedEnvelopeError
from tests.transports.redis_streams.harness import envelope
from transports.redis_streams import decode_entry
from transports.redis_streams.entries import xadd_command

TRACEPARENT = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"


def _bytes(fields: dict[str, Any]) -> dict[bytes, bytes]:
    return {k.encode(): v if isinstance(v, bytes) else str(v).encode() for k, v in fields.items()}


GOOD = envelope(n=1, name="Zoë 😀", nested={"a": [1, None]}).to_fields()


@pytest.mark.parametrize(
    "fields",
    [
        GOOD,
        {**GOOD, "causation_id": "abc", "producer": "patients", "version": "2"},
        {**GOOD, "correlation_id": ""},
        {**GOOD, "payload": ' {"a": 1} '},
        {**GOOD, "extra": "field"},
    ],
)
def test_valid_entries_decode_like_from_fields(fields: dict[str, Any]) -> None:
    raw = _bytes(fields)
    decoded, expected = decode_entry(raw), Envelope.from_fields(raw)
    assert decoded == expected
    assert decoded.payload_json() == expected.payload_json()
    assert (decoded.causation_id, decoded.version) == (expected.causation_id, expected.version)


@pytest.mark.parametrize(
    "fields",
    [
        {**GOOD, "id": ""},
        {**GOOD, "id": "x" * 129},
        {**GOOD, "payload": "[1]"},
        {**GOOD, "payload": "{bad"},
        {**GOOD, "payload": '{"a": 1} trailing'},
        {**GOOD, "version": "one"},
        {**GOOD, "producer": b"\xff"},
        {k: v for k, v in GOOD.items() if k != "type"},
    ],
)
def test_invalid_entries_fail_like_from_fields(fields: dict[str, Any]) -> None:
    raw = _bytes(fields)
    with pytest.raises(MalformedEnvelopeError) as expected:
        Envelope.from_fields(raw)
    with pytest.raises(MalformedEnvelopeError) as got:
        decode_entry(raw)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize(
    "made",
    [
        envelope(n=1, name="Zoë 😀"),
        envelope().replace(causation_id="c" * 32, producer="patients", version=3),
        envelope().replace(traceparent=TRACEPARENT),
        envelope().replace(traceparent=TRACEPARENT, tracestate="k=v"),
        envelope().replace(tracestate="k=v"),  # no traceparent: not written
    ],
)
def test_the_xadd_command_carries_exactly_to_fields_in_order(made: Envelope) -> None:
    command = xadd_command("s", made)
    assert command[:3] == ("XADD", "s", "*")
    pairs = list(zip(command[3::2], command[4::2], strict=True))
    assert pairs == list(made.to_fields().items())
