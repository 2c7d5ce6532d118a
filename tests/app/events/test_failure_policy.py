"""The failure policy of in-process handlers: log and go on; or raise all errors together."""

from __future__ import annotations

from typing import Any

import pytest
from structlog.testing import capture_logs

from app.core.events import EventBus, EventType, HandlerError, current_event
from app.core.events.instrumentation import HOOK
from app.core.events.signals import handler_failed, handler_succeeded

PAYLOAD = {"patient_id": "p1", "clinic_id": "c1"}


def broken(payload: dict[str, Any]) -> None:
    raise ValueError("bad data")


def test_a_failing_handler_is_logged_and_the_others_still_run(bus: EventBus) -> None:
    bus.raise_handler_errors = False
    got: list[str] = []
    bus.subscribe(EventType.PATIENT_CREATED, lambda p: got.append("before"), handler_id="t.before")
    bus.subscribe(EventType.PATIENT_CREATED, broken, handler_id="t.broken")
    bus.subscribe(EventType.PATIENT_CREATED, lambda p: got.append("after"), handler_id="t.after")
    with capture_logs() as logs:
        bus.publish(EventType.PATIENT_CREATED, PAYLOAD)  # returns normally
    assert got == ["before", "after"]
    [entry] = [log for log in logs if log["event"] == "handler.failed"]
    assert entry["handler_id"] == "t.broken"
    assert entry["event_type"] == "patient.created"
    assert len(entry["event_id"]) == 32
    assert (entry["error_class"], entry["error"]) == ("ValueError", "ValueError: bad data")
    assert "broken" in entry["stack"] and "exc_info" not in entry, "redacted by default"
    assert "payload" not in entry and "p1" not in str(entry), "payloads stay out of logs"


def test_raise_mode_runs_every_handler_then_raises_all_errors(bus: EventBus) -> None:
    got: list[str] = []

    def also_broken(payload: dict[str, Any]) -> None:
        raise KeyError("missing")

    bus.subscribe(EventType.PATIENT_CREATED, broken, handler_id="t.broken")
    bus.subscribe(EventType.PATIENT_CREATED, lambda p: got.append("ok"), handler_id="t.ok")
    bus.subscribe(EventType.PATIENT_CREATED, also_broken, handler_id="t.also_broken")
    with pytest.raises(HandlerError) as caught:
        bus.publish(EventType.PATIENT_CREATED, PAYLOAD)
    assert got == ["ok"]
    assert caught.value.handler_ids == ("t.broken", "t.also_broken")
    assert [type(exc) for exc in caught.value.exceptions] == [ValueError, KeyError]
    assert "t.broken, t.also_broken" in str(caught.value)


@pytest.mark.parametrize("observed", [False, True], ids=["unobserved", "observed"])
def test_each_error_is_named_by_the_id_of_the_subscription_that_raised(
    bus: EventBus, observed: bool
) -> None:
    """The in-process loop names a failing handler by its position in the plan: the same
    callable subscribed under two ids, failing at the first, middle and last positions."""
    calls: list[str] = []

    def sometimes(payload: dict[str, Any]) -> None:
        calls.append("sometimes")
        if len(calls) != 2:
            raise ValueError(f"call {len(calls)}")

    bus.subscribe(EventType.PATIENT_CREATED, sometimes, handler_id="t.first")
    bus.subscribe(EventType.PATIENT_CREATED, sometimes, handler_id="t.second")
    bus.subscribe(EventType.PATIENT_CREATED, broken, handler_id="t.last")
    if observed:
        handler_failed.connect(_ignore)
    try:
        with pytest.raises(HandlerError) as caught:
            bus.publish(EventType.PATIENT_CREATED, PAYLOAD)
    finally:
        handler_failed.disconnect(_ignore)
    assert HOOK.notify is None
    assert calls == ["sometimes", "sometimes"]
    assert caught.value.handler_ids == ("t.first", "t.last")
    assert [str(exc) for exc in caught.value.exceptions] == ["call 1", "bad data"]


def _ignore(sender: Any, **kw: Any) -> None:
    """A handler_failed receiver: connecting one turns the observed path on."""


def test_the_logged_event_id_is_the_one_handlers_saw(bus: EventBus) -> None:
    bus.raise_handler_errors = False
    seen: list[str] = []

    def look(payload: dict[str, Any]) -> None:
        envelope = current_event()
        assert envelope is not None
        seen.append(envelope.id)

    bus.subscribe(EventType.PATIENT_CREATED, look, handler_id="t.look")
    bus.subscribe(EventType.PATIENT_CREATED, broken, handler_id="t.broken")
    with capture_logs() as logs:
        bus.publish(EventType.PATIENT_CREATED, PAYLOAD)
    assert [log["event_id"] for log in logs if log["event"] == "handler.failed"] == seen


def test_signals_report_success_and_failure(bus: EventBus) -> None:
    bus.raise_handler_errors = False
    calls: list[tuple[str, str]] = []

    def on_ok(sender: Any, **kw: Any) -> None:
        calls.append(("ok", kw["handler_id"]))

    def on_failed(sender: Any, **kw: Any) -> None:
        calls.append(("failed", kw["handler_id"]))

    bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="t.fine")
    bus.subscribe(EventType.PATIENT_CREATED, broken, handler_id="t.broken")
    with (
        handler_succeeded.connected_to(on_ok),
        handler_failed.connected_to(on_failed),
        capture_logs(),
    ):
        bus.publish(EventType.PATIENT_CREATED, PAYLOAD)
    assert calls == [("ok", "t.fine"), ("failed", "t.broken")]
    assert HOOK.notify is None, "signals cost nothing once receivers are gone"
