"""RQ's failed-job registries of the bus queues, seen as the bus's dead letters.

A bus job lands in ``rq:failed:<prefix>:<queue>`` after its last attempt, or at once when it
can never succeed (malformed, unknown handler, refused). :class:`RQDeadLetterStore` lists
those jobs as :class:`DeadLetter` records (the envelope rebuilt from the job's JSON
arguments, never imported or executed), replays one for its own handler only, and purges.

Thread safety: stateless apart from the Redis client; safe from several threads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

import redis
from rq.job import JOB_ID_PATTERN
from rq.registry import FailedJobRegistry
from rq.serializers import JSONSerializer

from app.core.events.dead_letters import DeadLetter
from app.core.events.envelope import Envelope
from app.core.events.exceptions import MalformedEnvelopeError

from ..redis_common import connect_master
from .settings import RQSettings
from .worker import BusJob

__all__ = ["RQDeadLetterStore"]

_ERROR_NAME = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")
_RAW_LIMIT = 4000
_REDACTED = re.compile(r"^(?:[\w.]*\.)?RedactedError: ")


class RQDeadLetterStore:
    """Dead letters of the RQ transport: failed jobs in the bus queues' failed registries."""

    transport = "rq"

    def __init__(self, settings: RQSettings, client: redis.Redis) -> None:
        self.settings = settings
        self.client = client

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RQDeadLetterStore:
        """Build from app config (the same keys as the transport)."""
        settings = RQSettings.from_config(config)
        return cls(settings, connect_master(settings.redis_url))

    def list(self, limit: int = 100) -> Sequence[DeadLetter]:
        """The ``limit`` oldest failed jobs across the bus queues (missing hashes skipped)."""
        entries: list[tuple[float, str]] = []
        for registry in self._registries():
            found = cast(
                "list[tuple[bytes, float]]",
                self.client.zrange(registry.key, 0, limit - 1, withscores=True),
            )
            entries += [(float(score), job_id.decode()) for job_id, score in found]
        entries.sort()
        ids = [job_id for _, job_id in entries[:limit] if JOB_ID_PATTERN.fullmatch(job_id)]
        jobs = BusJob.fetch_many(ids, connection=self.client, serializer=JSONSerializer)
        return tuple(_readable(job) for job in jobs if isinstance(job, BusJob))

    def get(self, dead_letter_id: str) -> DeadLetter:
        """One failed bus-queue job; ``KeyError`` if it is not in a bus failed registry."""
        return _readable(self._failed_job(dead_letter_id)[1])

    def replay(self, dead_letter_id: str) -> None:
        """Requeue the job (its handler only) with a fresh retry budget; drop it from failed.

        Raises ``KeyError`` for an unknown id and ``ValueError`` for a job that is not a valid
        bus job (it would be refused again).
        """
        registry, job = self._failed_job(dead_letter_id)
        reason = job.refusal_reason() or _envelope_problem(job)
        if reason is not None:
            raise ValueError(f"dead letter {dead_letter_id} cannot be replayed: {reason}")
        job.retries_left = len(job.retry_intervals) if job.retry_intervals else None
        registry.requeue(job)

    def purge(self, dead_letter_id: str | None = None) -> int:
        """Delete one failed job (or all of the bus queues' when ``None``); return the count."""
        if dead_letter_id is not None:
            registry, job = self._failed_job(dead_letter_id)
            registry.remove(job, delete_job=True)
            return 1
        deleted = 0
        for registry in self._registries():
            for raw_id in cast("list[bytes]", self.client.zrange(registry.key, 0, -1)):
                job_id = raw_id.decode()
                found = self._fetch(job_id) if JOB_ID_PATTERN.fullmatch(job_id) else None
                if found is None:
                    self.client.zrem(registry.key, job_id)
                else:
                    registry.remove(found, delete_job=True)
                deleted += 1
        return deleted

    def _registries(self) -> tuple[FailedJobRegistry, ...]:
        return tuple(
            FailedJobRegistry(
                name, connection=self.client, job_class=BusJob, serializer=JSONSerializer
            )
            for name in self.settings.queue_names()
        )

    def _failed_job(self, job_id: str) -> tuple[FailedJobRegistry, BusJob]:
        if not JOB_ID_PATTERN.fullmatch(job_id):
            raise KeyError(job_id)
        for registry in self._registries():
            if self.client.zscore(registry.key, job_id) is not None:
                job = self._fetch(job_id)
                if job is not None:
                    return registry, job
        raise KeyError(job_id)

    def _fetch(self, job_id: str) -> BusJob | None:
        [job] = BusJob.fetch_many([job_id], connection=self.client, serializer=JSONSerializer)
        return job if isinstance(job, BusJob) else None


def _readable(job: BusJob) -> DeadLetter:
    """:func:`_dead_letter`, or a record saying why it could not be read (a forged hash)."""
    try:
        return _dead_letter(job)
    except Exception as exc:
        return DeadLetter(
            id=job.id,
            transport=RQDeadLetterStore.transport,
            handler_id="",
            reason=f"unreadable failed job: {type(exc).__name__}",
            error_class="UnreadableJob",
            deliveries=0,
            dead_at="",
            envelope=None,
            raw={},
        )


def _dead_letter(job: BusJob) -> DeadLetter:
    latest = job.latest_result()
    exc_info = (latest.exc_string if latest is not None else None) or ""
    last = next((line for line in reversed(exc_info.strip().splitlines()) if line.strip()), "")
    last = _REDACTED.sub("", last, count=1)  # the dispatcher's wrapper: "<class>: <message>"
    envelope: Envelope | None = None
    handler_id = ""
    refusal = job.refusal_reason()
    if refusal is None and _envelope_problem(job) is None:
        handler_id, envelope = job.args[0], Envelope.from_dict(job.args[1])
    return DeadLetter(
        id=job.id,
        transport=RQDeadLetterStore.transport,
        handler_id=handler_id,
        reason=(f"refused: {refusal}" if refusal else last)[:500],
        error_class=_error_class(last),
        deliveries=_deliveries(job),
        dead_at=job.ended_at.isoformat() if job.ended_at else "",
        envelope=envelope,
        raw=_raw(job, exc_info),
    )


def _envelope_problem(job: BusJob) -> str | None:
    handler_id, data = job.args
    if not isinstance(handler_id, str) or not handler_id:
        return "its handler id is not a string"
    try:
        Envelope.from_dict(data)
    except MalformedEnvelopeError as exc:
        return f"its envelope is malformed: {exc}"
    return None


def _error_class(last_line: str) -> str:
    if "AbandonedJobError" in last_line:
        return "AbandonedJobError"
    if last_line.startswith("Work-horse terminated"):
        return "WorkHorseTerminated"
    match = _ERROR_NAME.match(last_line)
    return match.group(1).rsplit(".", 1)[-1] if match else ""


def _deliveries(job: BusJob) -> int:
    """Attempts made: RQ decrements ``retries_left`` per retry and not on the final failure.

    Bus jobs carry one retry interval per allowed retry; a refused job ran no attempt beyond
    the first, whatever ``Retry`` it was written with.
    """
    if not job.retry_intervals or job.refusal_reason() is not None:
        return 1
    return max(1, len(job.retry_intervals) - int(job.retries_left or 0) + 1)


def _raw(job: BusJob, exc_info: str) -> dict[str, str]:
    try:
        func, args = str(job.func_name), json.dumps(job.args, ensure_ascii=False)
    except Exception as exc:  # undecodable job data: show why, never the bytes
        func, args = "?", f"<not RQ JSON: {type(exc).__name__}>"
    return {
        "queue": job.origin,
        "func": func[:200],
        "args": args[:_RAW_LIMIT],
        "description": (job.description or "")[:200],
        "traceback": exc_info[-_RAW_LIMIT:],
    }
