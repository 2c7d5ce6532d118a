"""Where an RQ job sits, read straight from Redis: what a recovery test prints for a lost job.

:func:`describe` names, for each job id, every place RQ could hold it (the queue list, the
queue's intermediate list and its first-seen mark, the started, scheduled, failed and
deferred registries with their scores), the job hash's status, retries left, worker and
timestamps, the worker's liveness, and the queue's scheduler lock with its holder's last
heartbeat. Read-only; payload values are never printed (only the bus envelope's ``n``).
"""

from __future__ import annotations

import json
import time
import zlib
from typing import Any

__all__ = ["describe", "job_ids_by_number"]

_FIELDS = (
    "status",
    "retries_left",
    "number_of_retries",
    "worker_name",
    "created_at",
    "enqueued_at",
    "started_at",
    "ended_at",
    "last_heartbeat",
)


def job_ids_by_number(client: Any, key_prefix: str) -> dict[int, str]:
    """``{payload n: job id}`` for the bus jobs of ``key_prefix`` (the kill test's payloads)."""
    found = {}
    for key in client.scan_iter(match=f"rq:job:{key_prefix}-*", count=500):
        data = client.hget(key, "data")
        try:
            _, _, (_, envelope), _ = json.loads(zlib_or_raw(data))
            found[int(envelope["payload"]["n"])] = key.decode().removeprefix("rq:job:")
        except Exception:  # not one of the test's jobs
            continue
    return found


def describe(client: Any, queue: str, job_ids: list[str]) -> str:
    """Lines saying where each of ``job_ids`` is in ``queue``'s RQ keys, and who holds what."""
    queue_key = f"rq:queue:{queue}"
    lines = [f"at {time.time():.3f} (unix): queue {queue}"]
    lock = client.get(f"rq:scheduler-lock:{queue}")
    holder = lock.decode() if lock else None
    beat = client.hget(f"rq:scheduler:{holder}", "last_heartbeat") if holder else None
    lines.append(f"  scheduler lock: {holder} (its last heartbeat {_text(beat)})")
    cleaning = client.ttl(f"rq:clean_registries:{queue}")
    lines.append(f"  maintenance lock ttl: {cleaning}")
    wip = client.zrange(f"rq:wip:{queue}", 0, -1, withscores=True)
    for job_id in job_ids:
        lines.append(f"  job {job_id}:")
        lines.append(f"    in queue list: {_in_list(client, queue_key, job_id)}")
        lines.append(
            f"    in intermediate list: {_in_list(client, f'{queue_key}:intermediate', job_id)}"
            f" (first seen {_text(client.get(f'{queue_key}:intermediate:first_seen:{job_id}'))})"
        )
        started = [f"{e.decode()} @ {s:.3f}" for e, s in wip if e.decode().startswith(job_id)]
        lines.append(f"    started registry: {started or 'no'}")
        for name in ("scheduled", "failed", "deferred", "finished"):
            score = client.zscore(f"rq:{name}:{queue}", job_id)
            lines.append(f"    {name} registry: {'no' if score is None else f'score {score:.3f}'}")
        values = client.hmget(f"rq:job:{job_id}", list(_FIELDS))
        pairs = zip(_FIELDS, values, strict=True)
        lines.append("    hash: " + ", ".join(f"{f}={_text(v)}" for f, v in pairs))
        worker = values[_FIELDS.index("worker_name")]
        if worker:
            name = worker.decode()
            state = client.hmget(f"rq:worker:{name}", ["state", "last_heartbeat", "pid"])
            lines.append(
                f"    worker {name}: ttl {client.ttl(f'rq:worker:{name}')}, state/beat/pid "
                + "/".join(_text(v) for v in state)
            )
        exc = client.hget(f"rq:job:{job_id}", "exc_info")
        if exc:
            lines.append(f"    exc_info (last line): {_text(zlib_or_raw(exc)).splitlines()[-1:]}")
    return "\n".join(lines)


def zlib_or_raw(value: bytes) -> bytes:
    """RQ stores ``data`` and ``exc_info`` zlib-compressed (when it wrote them)."""
    try:
        return zlib.decompress(value)
    except zlib.error:
        return value


def _in_list(client: Any, key: str, job_id: str) -> str:
    position = client.lpos(key, job_id)
    return "no" if position is None else f"yes, at {position} of {client.llen(key)}"


def _text(value: bytes | None) -> str:
    return "-" if value is None else value.decode(errors="backslashreplace")[:80]
