"""``bus.publish`` to remote transports: one envelope for all of them, its payload encoded
once before any transport sees it, and the same envelope whether anything observes or not
(the unobserved publish skips ``Publisher.publish`` and calls ``Publisher.dispatch``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from app.core.events import EventBus, EventType, Router, publishing
from app.core.events.envelope import Envelope
from app.core.events.exceptions import PayloadEncodingError
from app.core.events.instrumentation import HOOK, Observation
from app.core.events.payload import encode_payload
from app.core.events.subscriptions import Subscription
from tests.app.observability_support import observers_restored

PAYLOAD = {"patient_id": "p" * 32, "full_name": "Zoë"}


class Keeper:
    """A remote transport that keeps each envelope it is given, and its encoding then."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.got: list[tuple[Envelope, str | None]] = []

    def prepare(self, subscriptions: Sequence[Subscription]) -> None:
        pass

    def publish(self, envelope: Envelope, subscriptions: Sequence[Subscription]) -> None:
        self.got.append((envelope, envelope.encoded_payload))

    def close(self) -> None:
        pass


@pytest.fixture
def encodings(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every payload the publisher encodes (the check's own encodings are not counted)."""
    seen: list[object] = []

    def counting(payload: Any) -> str:
        seen.append(payload)
        return encode_payload(payload)

    monkeypatch.setattr(publishing, "encode_payload", counting)
    yield seen


def two_remote_bus(**settings: Any) -> tuple[EventBus, Keeper, Keeper]:
    first, second = Keeper("first"), Keeper("second")
    bus = EventBus()
    bus.configure(
        router=Router("first", {"b.*": "second"}, {"first", "second"}),
        transports={"first": first, "second": second},
        **settings,
    )
    bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="a.h")
    bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="b.h")
    return bus, first, second


def test_one_envelope_encoded_once_reaches_every_remote_transport(
    encodings: list[object],
) -> None:
    bus, first, second = two_remote_bus()
    bus.publish(EventType.PATIENT_CREATED, PAYLOAD)
    [(envelope, encoded)] = first.got
    assert second.got == [(envelope, encoded)] and second.got[0][0] is envelope
    assert encoded == encode_payload(PAYLOAD), "encoded before the first transport saw it"
    assert encodings == [PAYLOAD]
    assert (envelope.producer, envelope.version) == (__name__, 1)


def test_a_payload_the_check_encoded_to_measure_is_not_encoded_again(
    encodings: list[object],
) -> None:
    bus, first, _ = two_remote_bus(max_payload_bytes=400)
    payload = {"note": "n" * 100}  # bound 6 bytes a character: over 400; encoded: 113 bytes
    bus.publish(EventType.PATIENT_CREATED, payload)
    assert first.got[0][1] == encode_payload(payload) and encodings == []


def test_validation_off_still_checks_a_payload_that_crosses_the_wire() -> None:
    bus, first, _ = two_remote_bus(validate=False)
    with pytest.raises(PayloadEncodingError):
        bus.publish(EventType.PATIENT_CREATED, {"bad": {1, 2}})
    assert first.got == []


def test_observed_and_unobserved_publishes_hand_over_the_same_envelope() -> None:
    bus, first, _ = two_remote_bus()
    bus.publish(EventType.PATIENT_CREATED, PAYLOAD)
    heard: list[Observation] = []
    with observers_restored():
        HOOK.add(heard.append)
        bus.publish(EventType.PATIENT_CREATED, PAYLOAD)
    assert [observation.transport for observation in heard] == ["first", "second"]
    (quiet, _), (observed, _) = first.got
    assert quiet.id != observed.id
    compared = ("type", "payload", "producer", "version", "causation_id", "encoded_payload")
    assert [getattr(quiet, name) for name in compared] == [
        getattr(observed, name) for name in compared
    ]
    assert quiet.correlation_id == quiet.id and observed.correlation_id == observed.id
