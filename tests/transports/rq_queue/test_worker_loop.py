"""The bus's RQ workers stop visibly: an error that ends RQ's loop makes ``work()`` raise
(``rq worker`` exits non-zero), where RQ alone logs it and returns normally (exit 0)."""

from __future__ import annotations

from typing import Any

import fakeredis
import pytest
from rq.worker import BaseWorker

from app.core.events import EventBus
from transports.rq_queue import dispatcher
from transports.rq_queue.recovery import dequeue_timeout, maintenance_lock_ttl
from transports.rq_queue.worker import BusSimpleWorker
from transports.rq_queue.worker_loop import RQWorkerStoppedError


def test_an_error_ending_the_loop_is_raised_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("redis answered nonsense")

    monkeypatch.setattr(BaseWorker, "dequeue_job_and_maintain_ttl", broken)
    worker = BusSimpleWorker(["t:q"], connection=fakeredis.FakeRedis())
    with dispatcher.installed(EventBus()), pytest.raises(RQWorkerStoppedError, match="nonsense"):
        worker.work(burst=True)


def test_a_requested_stop_or_an_empty_queue_is_a_normal_return() -> None:
    worker = BusSimpleWorker(["t:q"], connection=fakeredis.FakeRedis())
    with dispatcher.installed(EventBus()):
        assert worker.work(burst=True) is False


def test_idle_waits_and_the_maintenance_lock_follow_the_maintenance_interval() -> None:
    assert dequeue_timeout(420, 600) == 405  # RQ's own wait when maintenance is rarer
    assert dequeue_timeout(420, 30) == 30
    assert maintenance_lock_ttl(1) == 30 and maintenance_lock_ttl(600) == 899
