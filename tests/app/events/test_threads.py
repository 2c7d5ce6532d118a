"""Publishing from many threads while subscriptions change: no errors, no stale plans."""

from __future__ import annotations

import threading
from typing import Any

from app.core.events import EventBus, EventType


def test_concurrent_publish_and_subscription_churn(bus: EventBus) -> None:
    counts = {"stable": 0}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def stable(payload: dict[str, Any]) -> None:
        with lock:
            counts["stable"] += 1

    def churn_handler(payload: dict[str, Any]) -> None:
        pass

    bus.subscribe(EventType.PATIENT_CREATED, stable, handler_id="t.stable")
    stop = threading.Event()

    def publisher() -> None:
        try:
            for _ in range(2000):
                bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p"})
        except BaseException as exc:
            errors.append(exc)

    def churner() -> None:
        while not stop.is_set():
            bus.subscribe(EventType.PATIENT_CREATED, churn_handler, handler_id="t.churn")
            bus.unsubscribe(EventType.PATIENT_CREATED, churn_handler)

    threads = [threading.Thread(target=publisher) for _ in range(4)]
    spinner = threading.Thread(target=churner)
    spinner.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    spinner.join()
    assert errors == []
    assert counts["stable"] == 8000
    got: list[Any] = []
    bus.subscribe(EventType.PATIENT_CREATED, got.append, handler_id="t.after")
    bus.publish(EventType.PATIENT_CREATED, {"patient_id": "last"})
    assert got == [{"patient_id": "last"}], "the plan reflects the final subscriptions"
    assert [s.handler_id for s in bus.subscriptions()] == ["t.stable", "t.after"]
