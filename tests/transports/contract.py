"""The transport contract: ONE suite every transport passes (Watermill's habit).

A transport's test file subclasses :class:`TransportContract` and provides a ``harness``
fixture returning a :class:`Harness`: a bus wired to that transport, a ``drain()`` that runs
the consumer side until everything published so far is handled, and the transport's
:class:`Features`. Behaviour that differs between transports is declared there, not hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from app.core.events import (
    EventBus,
    EventType,
    PayloadEncodingError,
    PayloadTooLargeError,
    TransportError,
    UnknownEventError,
    bind_correlation_id,
    current_event,
)
from app.core.events.envelope import Envelope
from app.core.events.transport import Transport


@dataclass(frozen=True)
class Features:
    """What a transport promises beyond the common contract."""

    synchronous: bool  # handlers have run when publish() returns
    ordered: bool  # one handler sees one event type in publish order
    retries_failures: bool  # a handler that raised gets the event again


@dataclass
class Harness:
    """A bus wired to the transport under test, and how to run its consumers."""

    bus: EventBus
    transport: Transport
    drain: Callable[[], None]
    features: Features


def patient(n: int) -> dict[str, Any]:
    return {"patient_id": f"p{n}", "clinic_id": "c1"}


class TransportContract:
    """Must hold for every transport. Subclasses provide the ``harness`` fixture."""

    def test_every_handler_receives_every_event(self, harness: Harness) -> None:
        got: dict[str, list[str]] = {"a": [], "b": []}
        harness.bus.subscribe(
            EventType.PATIENT_CREATED,
            lambda p: got["a"].append(p["patient_id"]),
            handler_id="contract.a",
        )
        harness.bus.subscribe(
            EventType.PATIENT_CREATED,
            lambda p: got["b"].append(p["patient_id"]),
            handler_id="contract.b",
        )
        for n in range(20):
            harness.bus.publish(EventType.PATIENT_CREATED, patient(n))
        harness.drain()
        expected = [f"p{n}" for n in range(20)]
        for handler in ("a", "b"):
            assert sorted(set(got[handler])) == sorted(expected)
            assert len(got[handler]) == 20, "each handler runs each event once here"
            if harness.features.ordered:
                assert got[handler] == expected

    def test_payload_arrives_unchanged(self, harness: Harness) -> None:
        payload = {
            "patient_id": "p1",
            "name": "Zoë Ødegård 😀",
            "nested": {"list": [1, 2.5, None, True, "x"], "empty": {}},
            "amount_cents": 12345,
        }
        got: list[dict[str, Any]] = []
        harness.bus.subscribe(EventType.PATIENT_UPDATED, got.append, handler_id="contract.payload")
        harness.bus.publish(EventType.PATIENT_UPDATED, payload)
        harness.drain()
        assert got == [payload]

    def test_envelope_reaches_the_handler(self, harness: Harness) -> None:
        seen: list[Envelope | None] = []
        harness.bus.subscribe(
            EventType.PATIENT_CREATED,
            lambda p: seen.append(current_event()),
            handler_id="contract.env",
        )
        with bind_correlation_id("req-42"):
            harness.bus.publish(EventType.PATIENT_CREATED, patient(1))
        harness.drain()
        [envelope] = seen
        assert envelope is not None
        assert envelope.type == "patient.created"
        assert envelope.correlation_id == "req-42"
        assert envelope.payload == patient(1)
        assert envelope.causation_id is None
        assert len(envelope.id) >= 16
        assert envelope.producer == __name__

    def test_event_published_by_a_handler_carries_causation(self, harness: Harness) -> None:
        parents: list[str] = []
        children: list[tuple[str | None, str]] = []

        def schedule_first_visit(payload: dict[str, Any]) -> None:
            parent = current_event()
            assert parent is not None
            parents.append(parent.id)
            harness.bus.publish(
                EventType.APPOINTMENT_SCHEDULED,
                {"appointment_id": "a1", "patient_id": payload["patient_id"]},
            )

        def record(payload: dict[str, Any]) -> None:
            child = current_event()
            assert child is not None
            children.append((child.causation_id, child.correlation_id))

        harness.bus.subscribe(
            EventType.PATIENT_CREATED, schedule_first_visit, handler_id="contract.parent"
        )
        harness.bus.subscribe(EventType.APPOINTMENT_SCHEDULED, record, handler_id="contract.child")
        with bind_correlation_id("req-7"):
            harness.bus.publish(EventType.PATIENT_CREATED, patient(1))
        harness.drain()
        harness.drain()
        assert children == [(parents[0], "req-7")]

    def test_a_failing_handler_does_not_stop_the_others(self, harness: Harness) -> None:
        got: list[str] = []
        attempts: list[str] = []

        def broken(payload: dict[str, Any]) -> None:
            attempts.append(payload["patient_id"])
            raise RuntimeError("boom")

        harness.bus.subscribe(EventType.PATIENT_CREATED, broken, handler_id="contract.broken")
        harness.bus.subscribe(
            EventType.PATIENT_CREATED,
            lambda p: got.append(p["patient_id"]),
            handler_id="contract.ok",
        )
        for n in range(3):
            harness.bus.publish(EventType.PATIENT_CREATED, patient(n))
        harness.drain()
        assert sorted(got) == ["p0", "p1", "p2"]
        assert set(attempts) == {"p0", "p1", "p2"}
        if harness.features.retries_failures:
            harness.drain()
            assert len(attempts) > 3, "a failed delivery is retried"
        else:
            assert len(attempts) == 3

    def test_wildcards_and_only_matching_events(self, harness: Harness) -> None:
        every: list[str] = []
        patients: list[str] = []
        invoices: list[str] = []
        harness.bus.subscribe("*", lambda p: every.append(p["k"]), handler_id="contract.every")
        harness.bus.subscribe(
            "patient.*", lambda p: patients.append(p["k"]), handler_id="contract.patients"
        )
        harness.bus.subscribe(
            EventType.INVOICE_PAID,
            lambda p: invoices.append(p["k"]),
            handler_id="contract.invoices",
        )
        harness.bus.publish(EventType.PATIENT_CREATED, {"k": "created"})
        harness.bus.publish(EventType.PATIENT_ARCHIVED, {"k": "archived"})
        harness.bus.publish(EventType.APPOINTMENT_CANCELLED, {"k": "cancelled"})
        harness.drain()
        assert sorted(every) == ["archived", "cancelled", "created"]
        assert sorted(patients) == ["archived", "created"]
        assert invoices == []

    def test_one_handler_through_two_matching_patterns_runs_once(self, harness: Harness) -> None:
        got: list[str] = []

        def handler(payload: dict[str, Any]) -> None:
            got.append(payload["k"])

        harness.bus.subscribe("patient.*", handler, handler_id="contract.twice")
        harness.bus.subscribe(EventType.PATIENT_CREATED, handler, handler_id="contract.twice")
        harness.bus.publish(EventType.PATIENT_CREATED, {"k": "x"})
        harness.drain()
        assert got == ["x"]

    @pytest.mark.parametrize(
        ("event", "payload", "error"),
        [
            ("patient.exploded", {"k": 1}, UnknownEventError),
            (EventType.PATIENT_CREATED, {"at": datetime.now(UTC)}, PayloadEncodingError),
            (EventType.PATIENT_CREATED, {"blob": "x" * 70_000}, PayloadTooLargeError),
        ],
    )
    def test_rejected_input_reaches_no_handler(
        self, harness: Harness, event: str, payload: dict[str, Any], error: type[Exception]
    ) -> None:
        got: list[Any] = []
        harness.bus.subscribe(EventType.PATIENT_CREATED, got.append, handler_id="contract.never")
        with pytest.raises(error):
            harness.bus.publish(event, payload)
        harness.drain()
        assert got == []

    def test_close_is_idempotent_and_final(self, harness: Harness) -> None:
        harness.transport.close()
        harness.transport.close()
        envelope = Envelope(id="e1", type="patient.created", payload=patient(1), correlation_id="c")
        with pytest.raises(TransportError):
            harness.transport.publish(envelope, harness.bus.subscriptions())
