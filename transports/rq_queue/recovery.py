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
  :func:`maintenance_lock_ttl` gives the bus's workers a lock of a few intervals instead;
- RQ marks a job STARTED only in the work horse: a worker killed after taking a job (onto the
  queue's intermediate list) but before its horse started it leaves the job QUEUED there, its
  started-registry entry is dropped unread (not STARTED) and RQ fails it only a minute after
  a maintenance run first saw it: :func:`recover_unstarted_jobs` handles it like any
  abandoned job as soon as its claim has lapsed.

The documented bound (``docs/transports/rq.md``) follows from these.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from rq.job import JobStatus
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.utils import now, utcformat, utcparse

__all__ = [
    "SCHEDULER_STALE_AFTER_S",
    "UNSTARTED_REASON",
    "dequeue_timeout",
    "maintenance_lock_ttl",
    "recover_unstarted_jobs",
    "release_stale_scheduler_locks",
]

UNSTARTED_REASON = "AbandonedJobError: the worker that took this job stopped before the job started"
"""The failure recorded (and, after the last attempt, listed by ``flask events dlq``)."""

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


def recover_unstarted_jobs(worker: Any, queue: Any, grace_s: float) -> list[str]:
    """Retry or fail ``queue``'s jobs that a dead worker took but never started; return them.

    A QUEUED job not back on the queue is abandoned

    - at once when it has started-registry entries and all have expired: the worker that
      prepared its execution stopped beating (RQ's own test for a STARTED job). This also
      covers workers of several queues, which take jobs with ``BLPOP`` (no intermediate list);
    - on the queue's intermediate list with no such entry (a one-queue worker died right after
      ``BLMOVE``), once maintenance has seen it unclaimed for more than ``grace_s`` (a live
      worker claims it within milliseconds); the mark names the job's ``enqueued_at``, so a
      later attempt starts afresh.

    A several-queue worker killed between its ``BLPOP`` and preparing the execution leaves no
    trace of the job but its hash: nothing here (or in RQ) can find it.

    An abandoned job goes through ``worker.handle_job_failure`` (one attempt used: retried if
    attempts are left, else failed with :data:`UNSTARTED_REASON`). Run under the queue's
    maintenance lock, before RQ's registry cleaning drops the expired entries.
    """
    connection = worker.connection
    intermediate = queue.intermediate_queue_key
    started = queue.started_job_registry.key
    at = time.time()
    entries: dict[str, list[tuple[bytes, float]]] = {}
    for member, score in connection.zrange(started, 0, -1, withscores=True):
        job_id = member.decode(errors="replace").rpartition(":")[0]
        entries.setdefault(job_id, []).append((member, score))
    taken = {raw.decode(errors="replace"): None for raw in connection.lrange(intermediate, 0, -1)}
    recovered = []
    for job_id in {**taken, **dict.fromkeys(entries)}:
        mark = f"{intermediate}:unclaimed_since:{job_id}"
        held = entries.get(job_id, [])
        if any(score > at for _, score in held):
            if job_id in taken:
                connection.delete(mark)  # a live worker runs it
            continue
        job = queue.fetch_job(job_id)
        if job is None or job.get_status(refresh=False) != JobStatus.QUEUED:
            continue  # gone, or STARTED (RQ's abandoned-job handling), or done
        if connection.lpos(queue.key, job_id) is not None:
            continue  # enqueued again: this entry is a leftover
        stamp = utcformat(job.enqueued_at) if job.enqueued_at else "-"
        if not held and not _unclaimed_for(connection, mark, stamp, at, grace_s):
            continue
        worker.handle_job_failure(job, queue, exc_string=UNSTARTED_REASON)
        with connection.pipeline() as pipeline:
            pipeline.lrem(intermediate, 0, job_id)
            if held:
                pipeline.zrem(started, *(member for member, _ in held))
            pipeline.delete(mark)
            pipeline.execute()
        recovered.append(job_id)
    return recovered


def _unclaimed_for(connection: Any, mark: str, stamp: str, at: float, grace_s: float) -> bool:
    """Whether the mark says this enqueue of the job was seen unclaimed over ``grace_s`` ago
    (the first sighting sets the mark and answers no)."""
    stored = connection.get(mark)
    if stored is not None:
        seen_stamp, _, since = stored.decode(errors="replace").rpartition("|")
        try:
            if seen_stamp == stamp:
                return at - float(since) > grace_s
        except ValueError:
            pass
    connection.set(mark, f"{stamp}|{at}", ex=86_400)
    return False
