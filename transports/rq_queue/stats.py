"""``flask events stats`` for the RQ transport: backlog and dead letters per handler.

RQ keeps one list per queue, not per handler, so the figures come from reading the jobs
themselves: the queued ids (oldest first), the retries waiting in the scheduled registry and
the failed registry, each job's description naming its handler
(``<handler id> <- <event type> <event id>``). At most ``SCAN_LIMIT`` jobs are read per
queue and registry; a note says when a figure is a lower bound. Lag is unknown (``None``):
RQ does not count deliveries. Consumers are the workers registered on the handler's queue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import redis
from rq.job import Job
from rq.queue import Queue
from rq.registry import FailedJobRegistry, ScheduledJobRegistry
from rq.worker import BaseWorker
from rq.worker_registration import get_keys

from app.core.events.subscriptions import Subscription

from ..operations import HandlerStats, TransportStats
from ..redis_common import text
from .settings import RQSettings

__all__ = ["SCAN_LIMIT", "collect_stats"]

SCAN_LIMIT = 10_000
WORKER_PREFIX = BaseWorker.redis_worker_namespace_prefix


def collect_stats(
    client: redis.Redis, settings: RQSettings, subscriptions: Sequence[Subscription]
) -> TransportStats:
    """Per-handler pending jobs, oldest pending age, workers and failed jobs."""
    pending: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    oldest: dict[str, float] = {}
    notes: list[str] = []
    workers: dict[str, tuple[str, ...]] = {}
    now = datetime.now(UTC)
    for name in settings.queue_names():
        queue = Queue(name, connection=client)
        waiting = 0
        for key, counter, is_registry in (
            (queue.key, pending, False),
            (ScheduledJobRegistry.key_template.format(name), pending, True),
            (FailedJobRegistry.key_template.format(name), failed, True),
        ):
            ids = _ids(client, key, is_registry)
            if len(ids) == SCAN_LIMIT:
                notes.append(f"{key}: only the first {SCAN_LIMIT} jobs were counted")
            for handler_id, enqueued_at in _describe(client, ids):
                counter[handler_id] += 1
                if counter is pending:
                    waiting += 1
                    if enqueued_at is not None and handler_id not in oldest:
                        oldest[handler_id] = (now - enqueued_at).total_seconds()
        workers[name] = tuple(
            sorted(text(key).removeprefix(WORKER_PREFIX) for key in get_keys(queue))
        )
        if waiting and not workers[name]:
            notes.append(f"no worker serves queue {name}: its {waiting} job(s) wait")
    handlers = tuple(
        HandlerStats(
            handler_id=sub.handler_id,
            pending=pending[sub.handler_id],
            lag=None,
            oldest_pending_age_s=oldest.get(sub.handler_id),
            consumers=workers.get(settings.queue_for(sub.handler_id), ()),
            dead_letters=failed[sub.handler_id],
        )
        for sub in subscriptions
    )
    return TransportStats("rq", handlers, sum(failed.values()), tuple(notes))


def _ids(client: redis.Redis, key: str, is_registry: bool) -> list[str]:
    raw = (
        client.zrange(key, 0, SCAN_LIMIT - 1)
        if is_registry
        else client.lrange(key, 0, SCAN_LIMIT - 1)
    )
    return [item.decode() for item in cast("list[bytes]", raw)]


def _describe(client: redis.Redis, ids: list[str]) -> list[tuple[str, datetime | None]]:
    """(handler id, enqueued at) of each bus job among ``ids``, in order."""
    with client.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.hmget(Job.key_for(job_id), ["description", "enqueued_at"])
        rows = cast("list[list[Any]]", pipe.execute())
    found = []
    for description, enqueued_at in rows:
        text = description.decode() if description else ""
        if " <- " not in text:
            continue
        when = None
        if enqueued_at:
            try:
                when = datetime.fromisoformat(enqueued_at.decode().replace("Z", "+00:00"))
            except ValueError:
                when = None
        found.append((text.split(" <- ", 1)[0], when))
    return found
