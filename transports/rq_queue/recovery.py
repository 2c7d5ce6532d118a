"""What the bus's RQ workers add to RQ's recovery of a killed worker's jobs, bounded in time.

RQ brings back a dead worker's job in another worker's maintenance (its heartbeat expired),
and retries with an interval through its scheduler (the job waits in the scheduled registry
until the worker holding the queue's scheduler lock moves it). Three gaps, measured with
``rq worker`` and SIGKILLed process trees, are closed here:

- an idle worker blocks in ``BLMOVE`` for ``worker_ttl - 15`` s (405 s by default) and runs
  maintenance only between two waits, whatever ``--maintenance-interval`` says:
  :func:`dequeue_timeout` caps the wait at the maintenance interval;
- a killed scheduler-lock holder keeps the lock for 61 s, and its successor is chosen only in
  a maintenance run: :func:`release_stale_scheduler_locks` frees a lock whose holder has not
  beaten for ``stale_after_s`` (its scheduler beats every second), so the next maintenance
  run of a live worker takes it;
- a worker killed during maintenance leaves RQ's 899 s maintenance lock:
  :func:`maintenance_lock_ttl` gives the bus's workers a lock of a few intervals instead.

The documented bound (``docs/transports/rq.md``) follows from these.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.utils import now, utcparse

__all__ = [
    "SCHEDULER_STALE_AFTER_S",
    "dequeue_timeout",
    "maintenance_lock_ttl",
    "release_stale_scheduler_locks",
]

SCHEDULER_STALE_AFTER_S = 30
"""A scheduler silent this long is dead (it beats every second)."""

# Delete the lock only if it is still held by the scheduler found stale (no race with a
# successor that took it meanwhile).
_RELEASE_IF_HELD_BY = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def dequeue_timeout(worker_ttl: int, maintenance_interval: float) -> int:
    """Seconds an idle worker waits for a job before it looks at maintenance again."""
    return max(1, min(int(worker_ttl) - 15, int(maintenance_interval)))


def maintenance_lock_ttl(maintenance_interval: float) -> int:
    """Seconds the per-queue maintenance lock lasts if its holder dies mid-run."""
    return max(30, min(899, 3 * int(maintenance_interval)))


def release_stale_scheduler_locks(
    connection: Any, queue_names: Iterable[str], stale_after_s: float = SCHEDULER_STALE_AFTER_S
) -> list[str]:
    """Free the scheduler locks of ``queue_names`` whose holder stopped beating; return them."""
    released = []
    release = connection.register_script(_RELEASE_IF_HELD_BY)
    for name in queue_names:
        key = RQScheduler.get_locking_key(name)
        holder = connection.get(key)
        if holder is None:
            continue
        scheduler_key = SCHEDULER_KEY_TEMPLATE % holder.decode(errors="replace")
        beat = connection.hget(scheduler_key, "last_heartbeat")
        if beat is not None and not _older_than(beat, stale_after_s):
            continue
        if release(keys=[key], args=[holder]):
            released.append(name)
    return released


def _older_than(beat: bytes, seconds: float) -> bool:
    try:
        return bool(now() - utcparse(beat.decode()) > timedelta(seconds=seconds))
    except (ValueError, UnicodeDecodeError):
        return True  # an unreadable heartbeat is no proof of life
