"""The current event: a ``ContextVar`` set around handler calls, handlers that take the envelope.

The current dispatch is explicit state (``app.core.events.context``), never found by reading
another function's frame: renaming a parameter or a local of the dispatch code cannot change
what a handler sees. ``test_nothing_in_app_reads_frames`` keeps it so.
"""

from __future__ import annotations

import ast
import threading
from pathlib import Path
from typing import Any

from app.core.events import (
    Envelope,
    EventBus,
    EventType,
    bind_correlation_id,
    correlation_id,
    current_event,
)
from app.core.events.subscriptions import takes_envelope

PAYLOAD = {"patient_id": "p1", "clinic_id": "c1"}
APP = Path(__file__).resolve().parents[3] / "app"
FRAME_ATTRIBUTES = {"_getframe", "f_locals", "f_back", "f_globals", "f_code", "__code__"}


def test_a_handler_with_a_second_parameter_receives_the_envelope(bus: EventBus) -> None:
    seen: list[tuple[dict[str, Any], Envelope, Envelope | None]] = []
    plain: list[dict[str, Any]] = []

    def on_created(data: dict[str, Any], event: Envelope) -> None:
        seen.append((data, event, current_event()))

    bus.subscribe(EventType.PATIENT_CREATED, on_created, handler_id="t.with_envelope")
    bus.subscribe(EventType.PATIENT_CREATED, plain.append, handler_id="t.plain")
    bus.publish(EventType.PATIENT_CREATED, PAYLOAD)
    ((data, event, current),) = seen
    assert data == PAYLOAD and plain == [PAYLOAD]
    assert isinstance(event, Envelope) and event is current
    assert (event.type, event.payload, event.producer) == ("patient.created", PAYLOAD, __name__)


def test_the_envelope_handler_gets_the_delivered_envelope_on_the_worker_side(
    bus: EventBus,
) -> None:
    got: list[Envelope] = []
    bus.subscribe(
        EventType.PATIENT_CREATED, lambda data, event: got.append(event), handler_id="t.remote"
    )
    delivered = Envelope(id="e1", type="patient.created", payload=PAYLOAD, correlation_id="c")
    bus.deliver("t.remote", delivered)
    bus.publish_envelope(delivered)
    assert got == [delivered, delivered] and got[0] is delivered
    assert current_event() is None


def test_which_handlers_take_the_envelope_is_decided_by_their_signature() -> None:
    class Handlers:
        def method(self, data: dict[str, Any], event: Envelope) -> None: ...

    def one(data: dict[str, Any]) -> None: ...
    def defaulted(data: dict[str, Any], event: Envelope | None = None) -> None: ...

    assert takes_envelope(Handlers().method) and takes_envelope(lambda d, e: None)
    assert not takes_envelope(one) and not takes_envelope(defaulted)
    assert not takes_envelope(print) and not takes_envelope(list.append.__get__([]))


def test_a_parent_envelope_built_by_a_nested_publish_stays_the_same_object(
    bus: EventBus,
) -> None:
    seen: dict[str, Any] = {}

    def parent(data: dict[str, Any]) -> None:
        bus.publish(EventType.NOTIFICATION_SENT, {"n": 1})  # builds the parent's envelope
        seen["parent"] = current_event()

    def child(data: dict[str, Any], event: Envelope) -> None:
        seen["child"] = event

    bus.configure(strict=False, validate=False)
    bus.subscribe(EventType.PATIENT_CREATED, parent, handler_id="t.parent")
    bus.subscribe(EventType.NOTIFICATION_SENT, child, handler_id="t.child")
    bus.publish(EventType.PATIENT_CREATED, PAYLOAD)
    assert seen["child"].causation_id == seen["parent"].id
    assert seen["child"].correlation_id == seen["parent"].correlation_id
    assert current_event() is None


def test_each_thread_sees_its_own_event(bus: EventBus) -> None:
    barrier = threading.Barrier(2)
    seen: dict[str, str] = {}

    def handler(data: dict[str, Any]) -> None:
        barrier.wait(timeout=10)  # both dispatches are running now
        envelope = current_event()
        assert envelope is not None
        seen[data["patient_id"]] = envelope.payload["patient_id"]

    bus.subscribe(EventType.PATIENT_CREATED, handler, handler_id="t.threads")
    threads = [
        threading.Thread(
            target=bus.publish,
            args=(EventType.PATIENT_CREATED, {"patient_id": name, "clinic_id": "c"}),
        )
        for name in ("a", "b")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert seen == {"a": "a", "b": "b"}


def test_nothing_in_app_reads_frames() -> None:
    """No code under ``app/`` reads frames, locals or code objects except the one documented
    caller lookup (``context.publisher_frame``, and the module name it gives to
    ``producer_of_frame``): renaming a parameter or a local of the dispatch code cannot break
    ``current_event()``, because nothing looks anything up by name."""
    found = []
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in FRAME_ATTRIBUTES:
                found.append((str(path.relative_to(APP.parent)), node.attr))
    assert sorted(found) == [
        ("app/core/events/context.py", "_getframe"),
        ("app/core/events/context.py", "f_globals"),
    ]


def test_a_delivered_event_sets_the_correlation_id_for_its_handler(bus: EventBus) -> None:
    seen: list[str | None] = []
    bus.subscribe(
        EventType.PATIENT_CREATED, lambda p: seen.append(correlation_id()), handler_id="t.c"
    )
    delivered = Envelope(id="e1", type="patient.created", payload=PAYLOAD, correlation_id="req-7")
    bus.deliver("t.c", delivered)
    assert seen == ["req-7"] and correlation_id() is None


def test_a_delivery_inside_a_bound_correlation_id_uses_the_event_s_own(bus: EventBus) -> None:
    seen: list[tuple[str | None, str]] = []

    def handler(payload: dict[str, Any]) -> None:
        nested = bus.prepare(EventType.PATIENT_CREATED, PAYLOAD, producer="t")
        seen.append((correlation_id(), nested.correlation_id))

    bus.subscribe(EventType.PATIENT_CREATED, handler, handler_id="t.c")
    delivered = Envelope(id="e1", type="patient.created", payload=PAYLOAD, correlation_id="req-7")
    with bind_correlation_id("outer"):
        bus.deliver("t.c", delivered)
        assert correlation_id() == "outer"
    assert seen == [("req-7", "req-7")]


def test_an_in_process_handler_outside_a_request_sees_its_event_s_correlation_id(
    bus: EventBus,
) -> None:
    seen: list[tuple[str | None, str | None]] = []

    def handler(payload: dict[str, Any]) -> None:
        event = current_event()
        seen.append((correlation_id(), event.correlation_id if event else None))

    bus.subscribe(EventType.PATIENT_CREATED, handler, handler_id="t.c")
    bus.publish(EventType.PATIENT_CREATED, PAYLOAD)
    [(seen_id, event_id)] = seen
    assert seen_id is not None and seen_id == event_id
    assert correlation_id() is None
