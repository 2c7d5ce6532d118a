"""The blinker signals are built on the hook: each observation kind sends its signal, with
``transport`` and the event's id, and only while a receiver is connected."""

from __future__ import annotations

from typing import Any

from app.core.events import event_bus
from app.core.events.envelope import Envelope
from app.core.events.instrumentation import HOOK, Kind, Observation
from app.core.events.signals import (
    event_dead_lettered,
    event_published,
    handler_failed,
    handler_retried,
    handler_succeeded,
    send_signals,
)

ENVELOPE = Envelope("e1", "patient.created", {"patient_id": "p1"}, "c1")


def test_the_bridge_is_attached_only_while_a_receiver_listens() -> None:
    assert send_signals not in HOOK.observers()

    def receiver(sender: Any, **kwargs: Any) -> None:
        return None

    with event_dead_lettered.connected_to(receiver):
        assert send_signals in HOOK.observers()
    assert send_signals not in HOOK.observers()


def test_every_kind_sends_its_signal() -> None:
    heard: list[tuple[str, dict[str, Any]]] = []

    def listen(name: str) -> Any:
        def receiver(sender: Any, **kwargs: Any) -> None:
            assert sender is event_bus
            heard.append((name, kwargs))

        return receiver

    receivers = {
        "published": listen("published"),
        "succeeded": listen("succeeded"),
        "failed": listen("failed"),
        "retried": listen("retried"),
        "dead": listen("dead"),
    }
    error = RuntimeError("boom")
    with (
        event_published.connected_to(receivers["published"]),
        handler_succeeded.connected_to(receivers["succeeded"]),
        handler_failed.connected_to(receivers["failed"]),
        handler_retried.connected_to(receivers["retried"]),
        event_dead_lettered.connected_to(receivers["dead"]),
    ):
        assert HOOK.notify is not None
        notify = HOOK.notify
        notify(Observation(Kind.PUBLISHED, "patient.created", "rq", envelope=ENVELOPE,
                           handler_count=2))  # fmt: skip
        notify(Observation(Kind.HANDLED, "patient.created", "rq", "h.x", 0.5, ENVELOPE))
        notify(Observation(Kind.FAILED, "patient.created", "rq", "h.x", 0.25, ENVELOPE, error))
        notify(Observation(Kind.RETRIED, "patient.created", "rq", "h.x", envelope=ENVELOPE,
                           error_class="RuntimeError"))  # fmt: skip
        notify(Observation(Kind.DEAD_LETTERED, "patient.created", "redis-streams", "h.x",
                           error_class="MalformedEnvelopeError", reason="bad"))  # fmt: skip
    common = {"event_type": "patient.created", "transport": "rq", "event_id": "e1"}
    assert heard == [
        ("published", {**common, "payload": {"patient_id": "p1"}, "handler_count": 2}),
        ("succeeded", {**common, "handler_id": "h.x", "duration_s": 0.5}),
        ("failed", {**common, "handler_id": "h.x", "error": error, "duration_s": 0.25}),
        ("retried", {**common, "handler_id": "h.x", "error_class": "RuntimeError"}),
        ("dead", {"event_type": "patient.created", "transport": "redis-streams",
                  "event_id": None, "handler_id": "h.x",
                  "error_class": "MalformedEnvelopeError", "reason": "bad"}),
    ]  # fmt: skip
