"""``flask events stats`` for RQ: pending jobs, oldest age, workers and failed jobs per handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.core.events import EventType
from tests.transports.rq_queue.conftest import Publisher
from transports import rq_queue
from transports.rq_queue import drain, stats

pytestmark = pytest.mark.redis


def test_stats_count_backlog_and_failures_per_handler(
    make_publisher: Callable[..., Publisher], key_prefix: str
) -> None:
    config = {"EVENTBUS_MAX_DELIVERIES": 1, "EVENTBUS_RQ_QUEUES": {"billing": "billing"}}
    publisher = make_publisher(**config)

    def broken(payload: dict[str, Any]) -> None:
        raise RuntimeError("no")

    publisher.bus.subscribe(EventType.INVOICE_PAID, broken, handler_id="billing.broken")
    publisher.bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="audit.slow")
    publisher.bus.publish(EventType.INVOICE_PAID, {"invoice_id": "i1"})
    with rq_queue.installed(publisher.bus):
        drain(publisher.client, [f"{key_prefix}:billing"], worker_name=key_prefix)
    publisher.bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1"})
    publisher.bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p2"})

    report = stats(
        {
            "EVENTBUS_REDIS_URL": publisher.settings.redis_url,
            "EVENTBUS_KEY_PREFIX": key_prefix,
            **config,
        },
        publisher.bus.subscriptions(),
    )
    rows = {row.handler_id: row for row in report.handlers}
    assert report.transport == "rq" and report.dead_letters == 1
    assert (rows["billing.broken"].pending, rows["billing.broken"].dead_letters) == (0, 1)
    slow = rows["audit.slow"]
    assert (slow.pending, slow.dead_letters, slow.lag, slow.consumers) == (2, 0, None, ())
    assert slow.oldest_pending_age_s is not None and slow.oldest_pending_age_s >= 0
    assert f"no worker serves queue {key_prefix}:eventbus: its 2 job(s) wait" in report.notes
