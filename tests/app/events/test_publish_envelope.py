"""Delivering envelopes built earlier (outbox, replay): ids kept, local and remote apart."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core.events import EventBus, EventType, Router, current_event
from app.core.events.envelope import Envelope
from app.core.events.subscriptions import Subscription


class RecordingTransport:
    """A remote transport that records what it was given; batches when ``batching``."""

    name = "fake"

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[str, ...]]] = []
        self.calls = 0

    def prepare(self, subscriptions: Sequence[Subscription]) -> None:
        pass

    def publish(self, envelope: Envelope, subscriptions: Sequence[Subscription]) -> None:
        self.calls += 1
        self.sent.append((envelope.id, tuple(s.handler_id for s in subscriptions)))

    def close(self) -> None:
        pass


class BatchingTransport(RecordingTransport):
    def publish_batch(self, items: Sequence[tuple[Envelope, Sequence[Subscription]]]) -> None:
        self.calls += 1
        self.sent += [(e.id, tuple(s.handler_id for s in subs)) for e, subs in items]


def mixed_bus(transport: RecordingTransport) -> tuple[EventBus, list[str]]:
    bus = EventBus()
    bus.configure(
        router=Router("inprocess", {"remote.*": "fake"}, {"inprocess", "fake"}),
        transports={"fake": transport},
        raise_handler_errors=True,
    )
    seen: list[str] = []

    def local_handler(payload: dict[str, Any]) -> None:
        envelope = current_event()
        assert envelope is not None
        seen.append(envelope.id)

    bus.subscribe(EventType.PATIENT_CREATED, local_handler, handler_id="local.h")
    bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="remote.h")
    return bus, seen


def envelope(event_id: str) -> Envelope:
    return Envelope(
        id=event_id, type="patient.created", payload={"patient_id": "p"}, correlation_id="c"
    )


def test_local_and_remote_parts_are_delivered_separately_with_the_same_id() -> None:
    transport = RecordingTransport()
    bus, seen = mixed_bus(transport)
    assert bus.has_remote_subscribers(EventType.PATIENT_CREATED)
    bus.publish_envelope(envelope("e1"), remote=False)
    assert seen == ["e1"] and transport.sent == []
    bus.publish_envelope(envelope("e1"), local=False)
    assert seen == ["e1"] and transport.sent == [("e1", ("remote.h",))]


def test_batches_go_to_a_batching_transport_in_one_call() -> None:
    transport = BatchingTransport()
    bus, seen = mixed_bus(transport)
    bus.send_remote_batch([envelope("e1"), envelope("e2"), envelope("e3")])
    assert transport.calls == 1
    assert [event_id for event_id, _ in transport.sent] == ["e1", "e2", "e3"]
    assert seen == []


def test_a_plain_transport_gets_one_publish_per_envelope() -> None:
    transport = RecordingTransport()
    bus, _ = mixed_bus(transport)
    bus.send_remote_batch([envelope("e1"), envelope("e2")])
    assert transport.calls == 2
