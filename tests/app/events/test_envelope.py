"""The envelope on the wire: flat string fields (streams) and a JSON dict (RQ), both ways."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.core.events import MalformedEnvelopeError
from app.core.events.envelope import Envelope, utc_timestamp

ENVELOPE = Envelope(
    id="a" * 32,
    type="patient.created",
    payload={"patient_id": "p1", "name": "Zoë", "tags": ["x"]},
    correlation_id="req-1",
    causation_id="b" * 32,
    producer="patients",
    version=2,
    occurred_at="2026-11-22T10:00:00.000001Z",
)


def test_flat_fields_round_trip_with_bytes_or_text() -> None:
    fields = ENVELOPE.to_fields()
    assert all(isinstance(value, str) for value in fields.values())
    assert fields["payload"] == '{"patient_id":"p1","name":"Zoë","tags":["x"]}'
    assert Envelope.from_fields(fields) == ENVELOPE
    as_bytes = {key.encode(): value.encode() for key, value in fields.items()}
    assert Envelope.from_fields(as_bytes) == ENVELOPE


def test_dict_round_trip() -> None:
    assert Envelope.from_dict(ENVELOPE.to_dict()) == ENVELOPE


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": ""}, "missing field(s): id"),
        ({"type": None}, "missing field(s): type"),
        ({"payload": "[]"}, "payload is not an object"),
        ({"payload": ["x"]}, "payload is not an object"),
        ({"version": "2"}, "version '2'"),
        ({"version": 0}, "version 0"),
        ({"producer": 7}, "producer must be strings"),
        ({"id": "x" * 129}, "longer than 128"),
    ],
)
def test_malformed_dicts_are_refused_with_a_reason(change: dict[str, Any], message: str) -> None:
    with pytest.raises(MalformedEnvelopeError, match=re.escape(message)):
        Envelope.from_dict({**ENVELOPE.to_dict(), **change})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"payload": "{not json"}, "bad version or payload"),
        ({"payload": "[1]"}, "not an object"),
        ({"version": "two"}, "bad version"),
        ({"occurred_at": ""}, "missing field"),
    ],
)
def test_malformed_fields_are_refused_with_a_reason(change: dict[str, str], message: str) -> None:
    with pytest.raises(MalformedEnvelopeError, match=re.escape(message)):
        Envelope.from_fields({**ENVELOPE.to_fields(), **change})


def test_non_utf8_bytes_are_refused() -> None:
    fields: dict[Any, Any] = {k.encode(): v.encode() for k, v in ENVELOPE.to_fields().items()}
    fields[b"type"] = b"\xff\xfe"
    with pytest.raises(MalformedEnvelopeError, match="not UTF-8"):
        Envelope.from_fields(fields)


def test_a_missing_correlation_falls_back_to_the_event_id() -> None:
    data = {**ENVELOPE.to_dict(), "correlation_id": None, "causation_id": None}
    envelope = Envelope.from_dict(data)
    assert envelope.correlation_id == envelope.id and envelope.causation_id is None


def stored(payload_text: str) -> Envelope:
    """An envelope as the outbox reads one back: the payload still as its JSON text."""
    return Envelope.with_encoded_payload(
        id="e1",
        type="patient.created",
        encoded_payload=payload_text,
        correlation_id="c1",
        causation_id=None,
        producer="patients",
        version=2,
        occurred_at="2026-11-22T10:00:00.000000Z",
    )


def test_a_stored_payload_is_sent_as_its_text_and_parsed_only_when_asked() -> None:
    text = '{"patient_id":"p1","name":"Zoë"}'
    envelope = stored(text)
    assert envelope.to_fields()["payload"] == text, "forwarded byte for byte, never re-encoded"
    assert envelope.payload == {"patient_id": "p1", "name": "Zoë"}
    assert envelope == Envelope(
        "e1",
        "patient.created",
        {"patient_id": "p1", "name": "Zoë"},
        "c1",
        None,
        "patients",
        2,
        "2026-11-22T10:00:00.000000Z",
    )
    assert envelope.to_dict()["payload"] == {"patient_id": "p1", "name": "Zoë"}


def test_a_stored_payload_that_is_not_an_object_fails_when_asked_for() -> None:
    envelope = stored("[1, 2]")
    assert envelope.to_fields()["payload"] == "[1, 2]"
    with pytest.raises(MalformedEnvelopeError, match="event e1: bad payload"):
        envelope.payload  # noqa: B018
    with pytest.raises(AttributeError):
        envelope.no_such_field  # type: ignore[attr-defined]  # noqa: B018


def test_timestamps_are_rfc3339_utc_with_microseconds_and_follow_the_clock() -> None:
    before = datetime.now(UTC)
    stamps = [utc_timestamp() for _ in range(3)]
    after = datetime.now(UTC)
    for stamp in stamps:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp)
        parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        assert before - timedelta(milliseconds=1) <= parsed <= after + timedelta(milliseconds=1)
    assert stamps == sorted(stamps)


def test_replace_changes_fields_and_drops_a_stale_encoding() -> None:
    envelope = Envelope("e1", "patient.created", {"a": 1}, "c1", encoded_payload='{"a":1}')
    traced = envelope.replace(traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01")
    assert traced.encoded_payload == '{"a":1}' and traced == envelope and traced is not envelope
    changed = envelope.replace(payload={"a": 2})
    assert changed.payload_json() == '{"a":2}', "a new payload is encoded anew"
    assert changed != envelope
    with pytest.raises(TypeError, match="no field"):
        envelope.replace(colour="red")


def test_replace_leaves_a_stored_payload_undecoded() -> None:
    envelope = stored("[1, 2]").replace(id="e2")  # would fail if it decoded the payload
    assert (envelope.id, envelope.to_fields()["payload"]) == ("e2", "[1, 2]")


def test_envelopes_are_not_hashable() -> None:
    with pytest.raises(TypeError):
        hash(ENVELOPE)


def test_only_a_deferred_envelope_has_an_attribute_hook() -> None:
    """A class with ``__getattr__`` pays for it on every attribute read: a built or decoded
    envelope must not (``_DeferredEnvelope`` alone decodes on first access)."""
    assert not hasattr(Envelope, "__getattr__")
    stored = Envelope.with_encoded_payload(
        id="e1", type="t", encoded_payload='{"a": 1}', correlation_id="e1", causation_id=None,
        producer="", version=1, occurred_at="2026-12-01T00:00:00Z",
    )  # fmt: skip
    assert isinstance(stored, Envelope) and stored.payload == {"a": 1}
    assert stored == Envelope("e1", "t", {"a": 1}, "e1", occurred_at="2026-12-01T00:00:00Z")
