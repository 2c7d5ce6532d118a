"""Test helpers for the RQ transport (structlog's ``testing.py`` habit): run bus jobs to the end.

:func:`drain` runs in-process burst workers (:class:`BusSimpleWorker`, scheduler on) until no
bus job is queued, scheduled for a retry, or running, so a test asserts on the outcome of
everything it published, retries included, without a worker process. It delivers on the
runtime installed in :mod:`transports.rq_queue.dispatcher` (or the app ``create_app()`` builds).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import redis
from rq.queue import Queue
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from rq.serializers import JSONSerializer

from .worker import BusSimpleWorker

__all__ = ["drain", "pending_jobs"]


def pending_jobs(client: redis.Redis, queue_names: Sequence[str]) -> int:
    """Bus jobs still queued, scheduled (waiting for a retry) or running on ``queue_names``."""
    total = 0
    for name in queue_names:
        queue = Queue(name, connection=client, serializer=JSONSerializer)
        total += queue.count
        for registry in (ScheduledJobRegistry, StartedJobRegistry):
            total += int(client.zcard(registry.key_template.format(name)))
    return total


def drain(
    client: redis.Redis,
    queue_names: Sequence[str],
    *,
    worker_name: str | None = None,
    timeout: float = 120.0,
    logging_level: str = "WARNING",
) -> None:
    """Run burst workers until every job on ``queue_names`` has finished or failed for good.

    Retries scheduled in the future are waited for (so keep retry intervals short in tests).
    Raises ``TimeoutError`` if jobs are still pending after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    name = worker_name or f"drain-{os.getpid()}"
    rounds = 0
    while True:
        rounds += 1
        worker = BusSimpleWorker(list(queue_names), connection=client, name=f"{name}-{rounds}")
        worker.work(burst=True, with_scheduler=True, logging_level=logging_level)
        left = pending_jobs(client, queue_names)
        if left == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{left} bus job(s) still pending on {', '.join(queue_names)}")
        time.sleep(0.05)
