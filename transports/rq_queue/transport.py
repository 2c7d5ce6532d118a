"""The RQ transport: one RQ job per (event, handler), run by RQ's own workers.

``publish`` turns an event into one job per subscription routed here, all of them written in
ONE round trip by one Lua script, atomically:

- every job calls the one fixed dispatcher (:data:`transports.rq_queue.dispatcher.DISPATCHER_NAME`)
  with the JSON arguments ``[handler_id, envelope]`` (RQ's ``JSONSerializer`` format; no
  pickle), so a worker finds the handler by id in its registry and imports nothing named by
  the job;
- the job id is derived from the event id and the handler id (:meth:`RQSettings.job_id`) and
  the job is written only if neither that job nor the bus's duplicate marker exists (RQ's
  ``unique=True`` check, done per job: a duplicate skips that one handler, never the others),
  so publishing the same envelope twice runs each handler once;
- ``Retry(max=EVENTBUS_MAX_DELIVERIES - 1)`` with the growing ``EVENTBUS_RQ_RETRY_INTERVALS``,
  ``result_ttl=EVENTBUS_RQ_RESULT_TTL``, ``timeout=EVENTBUS_RQ_JOB_TIMEOUT``, and a description
  naming the handler and event only (RQ logs descriptions; payloads stay out of logs).

Keys written at publish: ``rq:job:<prefix>-<digest>`` (the job hash), ``rq:queue:<prefix>:<queue>``
(the queue list), ``rq:queues`` (RQ's set of queue keys) and ``<prefix>:rq:dedup:<job id>``
(expires after ``EVENTBUS_RQ_DEDUP_TTL``). Workers then write RQ's usual keys (see
``docs/transports/rq.md``).

Guarantee: at least once per (event, handler). Failure: a Redis error raises
:class:`TransportError` (nothing, or every new job, was written: the script is atomic).
Thread safety: ``publish`` may run on many threads at once (redis-py's pool is thread-safe).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import redis
from rq.job import Job, JobStatus, Retry
from rq.queue import Queue
from rq.utils import now

from app.core.events.envelope import Envelope
from app.core.events.exceptions import TransportError
from app.core.events.subscriptions import Subscription
from app.log import get_logger

from ..redis_common import connect_master, mask_url
from .dispatcher import DISPATCHER_NAME
from .settings import RQSettings

if TYPE_CHECKING:
    from ..operations import TransportStats
    from .dead_letters import RQDeadLetterStore

__all__ = ["RQTransport", "dead_letter_store", "from_config", "stats"]

# KEYS[1] = RQ's set of queue keys; then per job: job hash, queue list, bus duplicate marker.
# ARGV[1] = marker TTL in seconds (0: no marker); then per job: job id, n, n field/value pairs.
# Returns one flag per job: 1 written and queued, 0 duplicate (left untouched).
_ENQUEUE_SCRIPT = """
local ttl = tonumber(ARGV[1])
local added = {}
local a = 2
for i = 0, (#KEYS - 1) / 3 - 1 do
  local job_key, queue_key, marker = KEYS[2 + 3 * i], KEYS[3 + 3 * i], KEYS[4 + 3 * i]
  local last = a + 1 + 2 * tonumber(ARGV[a + 1])
  if redis.call('EXISTS', job_key) == 1 or (ttl > 0 and redis.call('EXISTS', marker) == 1) then
    added[i + 1] = 0
  else
    redis.call('HSET', job_key, unpack(ARGV, a + 2, last))
    if ttl > 0 then
      redis.call('SET', marker, '1', 'EX', ttl)
    end
    redis.call('SADD', KEYS[1], queue_key)
    redis.call('RPUSH', queue_key, ARGV[a])
    added[i + 1] = 1
  end
  a = last + 1
end
return added
"""


class RQTransport:
    """Enqueues bus jobs on RQ queues; RQ workers (``flask events rq-worker``) run them."""

    name = "rq"

    def __init__(self, settings: RQSettings, client: redis.Redis) -> None:
        self.settings = settings
        self.client = client
        self._enqueue = client.register_script(_ENQUEUE_SCRIPT)
        self._retry = (
            Retry(max=settings.max_deliveries - 1, interval=settings.retry_schedule())
            if settings.max_deliveries > 1
            else None
        )
        self._queue_keys: dict[str, tuple[str, str]] = {}
        self._closed = False
        self._log: Any = get_logger("eventbus.rq")

    def prepare(self, subscriptions: Sequence[Subscription]) -> None:
        """Resolve each handler's queue; RQ queues need no creating, so Redis is not contacted.

        Connectivity is checked lazily: the first ``publish`` (or the worker at start-up)
        reports an unreachable Redis, naming the (password-masked) URL.
        """
        for sub in subscriptions:
            self._queue_of(sub.handler_id)

    def publish(self, envelope: Envelope, subscriptions: Sequence[Subscription]) -> None:
        """Enqueue one job per subscription in one atomic round trip; duplicates are skipped."""
        if self._closed:
            raise TransportError("the RQ transport is closed")
        if not subscriptions:
            return
        body = _envelope_json(envelope)
        keys: list[str] = [Queue.redis_queues_keys]
        args: list[Any] = [self.settings.dedup_ttl]
        for sub in subscriptions:
            job_id = self.settings.job_id(envelope.id, sub.handler_id)
            queue_name, queue_key = self._queue_of(sub.handler_id)
            fields = self._job_fields(job_id, queue_name, sub.handler_id, envelope, body)
            keys += [Job.key_for(job_id), queue_key, self.settings.dedup_key(job_id)]
            args += [job_id, len(fields)]
            for item in fields.items():
                args += item
        try:
            added = self._enqueue(keys=keys, args=args)
        except redis.RedisError as exc:
            raise TransportError(
                f"could not enqueue {envelope.type} {envelope.id} on RQ at "
                f"{mask_url(self.settings.redis_url)}: {type(exc).__name__}: {exc}"
            ) from exc
        skipped = [
            sub.handler_id for sub, flag in zip(subscriptions, added, strict=True) if not flag
        ]
        if skipped:
            self._log.info(
                "rq.duplicate_skipped",
                event_id=envelope.id,
                event_type=envelope.type,
                handler_ids=skipped,
            )

    def ping(self) -> None:
        """Raise :class:`TransportError` (the cause chained) unless Redis answers ``PING``."""
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise TransportError(f"Redis does not answer: {type(exc).__name__}") from exc

    def close(self) -> None:
        """Close the Redis connections; safe to call twice. Later publishes raise."""
        if not self._closed:
            self._closed = True
            self.client.close()

    def _queue_of(self, handler_id: str) -> tuple[str, str]:
        cached = self._queue_keys.get(handler_id)
        if cached is None:
            name = self.settings.queue_for(handler_id)
            cached = (name, Queue.redis_queue_namespace_prefix + name)
            self._queue_keys[handler_id] = cached
        return cached

    def _job_fields(
        self, job_id: str, queue_name: str, handler_id: str, envelope: Envelope, body: str
    ) -> dict[str, Any]:
        """The job hash RQ itself would write for ``dispatch(handler_id, envelope)``."""
        job = Job.create(
            DISPATCHER_NAME,
            connection=self.client,
            id=job_id,
            origin=queue_name,
            status=JobStatus.QUEUED,
            description=f"{handler_id} <- {envelope.type} {envelope.id}",
            result_ttl=self.settings.result_ttl,
            timeout=self.settings.job_timeout,
            retry=self._retry,
        )
        # RQ's job data is the JSON of [func, instance, args, kwargs] (``JSONSerializer``'s
        # format), written here directly: the envelope body is encoded once per event and
        # shared by every handler's job. (The job object's own serializer is then never used:
        # leaving it unset saves two ~25 µs ``Protocol`` isinstance checks per job.)
        job.data = f'["{DISPATCHER_NAME}",null,[{json.dumps(handler_id)},{body}],{{}}]'.encode()
        job.enqueued_at = now()
        return {key: value for key, value in job.to_dict().items() if value is not None}


def _envelope_json(envelope: Envelope) -> str:
    """``envelope.to_dict()`` as JSON, splicing in the payload encoded once per envelope."""
    head = envelope.to_dict()
    del head["payload"]
    return json.dumps(head, ensure_ascii=False)[:-1] + ',"payload":' + envelope.payload_json() + "}"


def from_config(config: Mapping[str, Any]) -> RQTransport:
    """Build from app config; :class:`ConfigurationError` lists every bad setting."""
    settings = RQSettings.from_config(config)
    client = connect_master(
        settings.redis_url, socket_connect_timeout=5, socket_timeout=10, health_check_interval=30
    )
    return RQTransport(settings, client)


def dead_letter_store(config: Mapping[str, Any]) -> RQDeadLetterStore:
    """The dead letters of this transport: RQ's failed registries of the bus queues."""
    from .dead_letters import RQDeadLetterStore

    return RQDeadLetterStore.from_config(config)


def stats(config: Mapping[str, Any], subscriptions: Sequence[Subscription]) -> TransportStats:
    """Per-handler backlog, workers and failed jobs of the handlers routed here (operator hook)."""
    from .stats import collect_stats

    settings = RQSettings.from_config(config)
    client = connect_master(settings.redis_url, socket_connect_timeout=5)
    try:
        return collect_stats(client, settings, subscriptions)
    finally:
        client.close()
