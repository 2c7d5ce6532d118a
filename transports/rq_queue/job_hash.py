"""Reading an RQ job hash that may be corrupt: the bus's job class never lets RQ's parser raise.

RQ's ``Job.restore`` parses a dozen fields of the job hash (``created_at``, ``status``,
``timeout``, ``retries_left``...) and raises on the first bad one; raised while a worker
dequeues, that stops the worker ("found an unhandled exception", exit 0) and leaves the job
in the queue's intermediate list, invisible. :func:`restore_tolerantly` runs RQ's parser;
when it raises, it finds the fields RQ cannot parse (each field alone on a scratch job),
restores without them, and returns what was wrong. The bus's job class then refuses the job
(``BusJob.refusal_reason``): RQ fails it at once, without retry, with that reason, and saving
the failed job rewrites the bad fields with sane values.

Values RQ parses but the bus never writes (a negative or huge timeout, a retry budget that is
not a count, intervals that are not a list of seconds) are reported the same way: a bus job
is exactly what ``RQTransport`` writes, or it is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rq.job import Job

__all__ = ["MAX_TIMEOUT_S", "restore_tolerantly"]

MAX_TIMEOUT_S = 7 * 86_400
"""The longest job timeout a bus job may carry (RQ's own accepts anything)."""

Restore = Callable[[Job, Mapping[Any, Any]], None]


def restore_tolerantly(job: Job, raw: Mapping[Any, Any], restore: Restore) -> str | None:
    """Restore ``job`` from ``raw`` with RQ's ``restore``; return why the hash is not a
    bus job's (``None`` when it is). Never raises for the hash's content."""
    fields = dict(raw)
    problems = []
    if b"data" not in fields and "data" not in fields:
        fields[b"data"] = b""  # RQ would call it a missing job and skip it silently
        problems.append("data (missing)")
    try:
        restore(job, fields)
    except Exception as first:
        bad = [key for key in fields if key not in (b"data", "data") and _breaks(job, key, fields)]
        for key in bad:
            del fields[key]
        problems.append(f"{_names(bad) or '?'} ({type(first).__name__})")
        try:
            restore(job, fields)
        except Exception:  # a combination we could not isolate: keep only the data
            restore(job, {b"data": fields.get(b"data", b"")})
    problems += _unlike_a_bus_job(job)
    if not problems:
        return None
    _sanitize(job)
    return f"its job hash is corrupt: unreadable field(s) {', '.join(problems)}"


def _breaks(job: Job, key: Any, fields: Mapping[Any, Any]) -> bool:
    """Whether RQ's parser raises for this one field (on a scratch job of the same class)."""
    scratch = type(job)(id=job.id, connection=job.connection, serializer=job.serializer)
    try:
        Job.restore(scratch, {b"data": b"", key: fields[key]})
    except Exception:
        return True
    return False


def _unlike_a_bus_job(job: Job) -> list[str]:
    """Parsed values ``RQTransport`` never writes."""
    checks = (
        ("timeout", job.timeout is None or _count(job.timeout, 1, MAX_TIMEOUT_S)),
        ("retries_left", job.retries_left is None or _count(job.retries_left, 0, 1000)),
        (
            "retry_intervals",
            job.retry_intervals is None
            or (
                isinstance(job.retry_intervals, list)
                and all(_count(i, 0, MAX_TIMEOUT_S) for i in job.retry_intervals)
            ),
        ),
        ("result_ttl", job.result_ttl is None or _count(job.result_ttl, -1, 10**9)),
        ("failure_ttl", job.failure_ttl is None or _count(job.failure_ttl, 1, 10**9)),
        ("ttl", job.ttl is None or _count(job.ttl, -1, 10**9)),
        ("meta", isinstance(job.meta, dict) and "unserialized" not in job.meta),
        # A bus job never repeats: RQ re-enqueues a repeating job after each success, so a
        # forged repeat count would run it forever (a burst worker would never finish).
        ("repeats_left", not job.repeats_left),
        ("repeat_intervals", job.repeat_intervals is None),
        ("dependencies", not job._dependency_ids),
    )
    return [f"{name} (not a bus job's)" for name, fine in checks if not fine]


def _count(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _sanitize(job: Job) -> None:
    """Values RQ can run a refused job with: no timeout, no retry, no dependencies, no TTLs."""
    job.timeout = None
    job.retries_left = None
    job.retry_intervals = None
    job.result_ttl = None
    job.failure_ttl = None
    job.ttl = None
    job.meta = {}
    job._dependency_ids = []
    job.repeats_left = None
    job.repeat_intervals = None


def _names(keys: list[Any]) -> str:
    return ", ".join(
        (key.decode(errors="backslashreplace") if isinstance(key, bytes) else str(key))[:40]
        for key in keys
    )
