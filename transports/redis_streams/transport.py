"""The Redis Streams transport: one stream per event type, one consumer group per handler.

``publish`` writes exactly ONE ``XADD`` per event, to ``P:stream:<event type>``, with the
envelope's flat string fields (``payload`` as JSON; ``redis-cli XRANGE`` shows it readable).
No trimming happens on publish: retention is the worker's (``retention``), which never
deletes an entry some group has not acknowledged. Every handler routed here has a consumer
group named by its handler id on the stream of each event type it subscribes to; ``prepare``
creates them at ``0`` with ``MKSTREAM`` when the app starts (web and worker), and ``publish``
creates any missing one before its first ``XADD``, so no event published by a started app is
missed. ``flask events worker`` (:mod:`transports.redis_streams.worker`) consumes them.

Guarantee: at least once per handler. Failure: an event counts as published only when
``publish`` returns; a Redis error raises :class:`TransportError` (chained), and nothing is
reported published that was not written. A connection error is retried twice (never a
timeout): if a reply was lost after the write, the event may be written twice with the same
event id, which consumers already tolerate. Thread safety: ``publish`` may run on many
threads at once: each thread sends on a connection of its own, taken from the client's pool
on its first publish and kept (:mod:`~transports.redis_streams.held`: it saves the pool's
per-command work, half of a round trip here); batches and group checks use the pool.

Operator hooks found through ``transports.operations``: :func:`dead_letter_store` and
:func:`stats`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from contextlib import suppress
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.core.events.envelope import Envelope
from app.core.events.exceptions import TransportError
from app.core.events.subscriptions import Subscription
from app.log import get_logger

from ..operations import TransportStats
from ..redis_common import (
    REDIS_ERRORS,
    RedisClient,
    connect,
    is_cluster,
    mask_url,
    redis_errors_as_transport_errors,
)
from .dead_letters import (
    TRANSPORT_NAME,
    StreamsDeadLetterStore,
)
from .entries import xadd_command
from .groups import ensure_group
from .held import command_sender
from .keys import event_types_for
from .settings import StreamsSettings
from .stats import collect_stats

__all__ = ["RedisStreamsTransport", "dead_letter_store", "from_config", "stats"]


_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, InvalidResponse)
"""Errors that mean "no Redis answers at this address (now)": ``prepare`` starts anyway."""


class RedisStreamsTransport:
    """Publishes envelopes to Redis streams; see the module docstring for the contract."""

    name = TRANSPORT_NAME

    def __init__(self, client: RedisClient, settings: StreamsSettings) -> None:
        self.client = client
        self.settings = settings
        self._keys = settings.keys
        self._streams: dict[str, str] = {}
        self._ready: dict[str, frozenset[str]] = {}
        self._checked: dict[str, tuple[Sequence[Subscription], str]] = {}
        self._lock = threading.Lock()
        self._closed = False
        self._send = command_sender(client)  # each thread's own connection (see held.py)

    def prepare(self, subscriptions: Sequence[Subscription]) -> None:
        """Create each handler's group on each of its streams (at ``0``, idempotent).

        If Redis cannot be reached (or what answers at its address does not speak Redis's
        protocol), logs ``redis.unavailable`` and returns: the app still starts, ``publish``
        creates the missing groups before its first ``XADD`` of each event type (or raises
        ``TransportError`` while Redis stays away), and workers create theirs.
        """
        if self._closed:
            raise TransportError("the redis-streams transport is closed")
        wanted: dict[str, set[str]] = {}
        for sub in subscriptions:
            for event_type in event_types_for(sub.pattern):
                wanted.setdefault(event_type, set()).add(sub.handler_id)
        try:
            for event_type, handler_ids in wanted.items():
                self._create_groups(event_type, handler_ids)
        except TransportError as exc:
            if not isinstance(exc.__cause__, _UNREACHABLE):
                raise
            get_logger("eventbus.streams").warning(
                "redis.unavailable",
                during="prepare",
                redis=mask_url(self.settings.redis_url),
                error=str(exc.__cause__)[:300],
            )

    def publish(self, envelope: Envelope, subscriptions: Sequence[Subscription]) -> None:
        """``XADD`` the envelope once; raise :class:`TransportError` if it was not written."""
        checked = self._checked.get(envelope.type)  # the common case, without a call
        if checked is not None and checked[0] is subscriptions:
            stream = checked[1]
        else:
            stream = self._ready_stream(envelope.type, subscriptions)
        try:
            self._send(xadd_command(stream, envelope))
        except REDIS_ERRORS as exc:
            raise TransportError(
                f"could not publish {envelope.type} event {envelope.id} to Redis at "
                f"{mask_url(self.settings.redis_url)}: {type(exc).__name__}: {exc}"
            ) from exc

    def publish_batch(self, items: Sequence[tuple[Envelope, Sequence[Subscription]]]) -> None:
        """One ``XADD`` per envelope, all in one ``MULTI`` round trip: all written, or none.

        On a Redis Cluster the event types' streams live in different slots, which no
        ``MULTI`` spans: the ``XADD``s go in one pipeline instead (one round trip per master,
        in parallel), so a batch that fails part way may be partly written; the relay then
        sends it again, and consumers already tolerate an event id seen twice. Used by the
        bus's ``send_remote_batch`` (the outbox relay). Raises :class:`TransportError` if the
        batch was not (wholly) written.
        """
        streams = [self._ready_stream(envelope.type, subs) for envelope, subs in items]
        pipe = self.client.pipeline(transaction=not is_cluster(self.client))
        for stream, (envelope, _) in zip(streams, items, strict=True):
            pipe.execute_command(*xadd_command(stream, envelope))
        try:
            pipe.execute()
        except REDIS_ERRORS as exc:
            raise TransportError(
                f"could not publish a batch of {len(items)} events to Redis at "
                f"{mask_url(self.settings.redis_url)}: {type(exc).__name__}: {exc}"
            ) from exc

    def ping(self) -> None:
        """Raise :class:`TransportError` (the cause chained) unless Redis answers ``PING``."""
        try:
            self.client.ping()
        except RedisError as exc:
            raise TransportError(f"Redis does not answer: {type(exc).__name__}") from exc

    def close(self) -> None:
        """Release the connection pool; later publishes raise ``TransportError``. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._checked = {}
        with suppress(RedisError):
            self.client.close()

    def _ready_stream(self, event_type: str, subscriptions: Sequence[Subscription]) -> str:
        """The stream of ``event_type``, once every subscription's group exists on it.

        Checked once per event type and subscriptions object: the bus hands each publish of
        a type the same immutable tuple until its subscriptions change, so later publishes
        find the pair in ``_checked`` (emptied by ``close``) and skip the group check.
        """
        checked = self._checked.get(event_type)
        if checked is not None and checked[0] is subscriptions:
            return checked[1]
        if self._closed:
            raise TransportError("the redis-streams transport is closed")
        ready = self._ready.get(event_type)
        if ready is None or any(sub.handler_id not in ready for sub in subscriptions):
            self._create_groups(event_type, {sub.handler_id for sub in subscriptions})
        stream = self._streams.get(event_type) or self._stream(event_type)
        if isinstance(subscriptions, tuple):
            self._checked[event_type] = (subscriptions, stream)
        return stream

    def _stream(self, event_type: str) -> str:
        stream = self._keys.stream(event_type)
        self._streams[event_type] = stream
        return stream

    def _create_groups(self, event_type: str, handler_ids: set[str]) -> None:
        stream = self._stream(event_type)
        with self._lock:
            missing = handler_ids - self._ready.get(event_type, frozenset())
            try:
                for handler_id in sorted(missing):
                    ensure_group(self.client, stream, handler_id)
            except REDIS_ERRORS as exc:
                raise TransportError(
                    f"could not create consumer groups on {stream} at "
                    f"{mask_url(self.settings.redis_url)}: {type(exc).__name__}: {exc}"
                ) from exc
            self._ready[event_type] = self._ready.get(event_type, frozenset()) | missing


def from_config(config: Mapping[str, Any]) -> RedisStreamsTransport:
    """Build from app config (``EVENTBUS_REDIS_URL``, ``EVENTBUS_KEY_PREFIX``, ...)."""
    settings = StreamsSettings.from_config(config)
    return RedisStreamsTransport(connect(settings.redis_url, "publisher"), settings)


def dead_letter_store(config: Mapping[str, Any]) -> StreamsDeadLetterStore:
    """The dead-letter store of this transport (operator hook, see ``transports.operations``)."""
    settings = StreamsSettings.from_config(config)
    return StreamsDeadLetterStore(connect(settings.redis_url, "admin"), settings.keys)


@redis_errors_as_transport_errors
def stats(config: Mapping[str, Any], subscriptions: Sequence[Subscription]) -> TransportStats:
    """Per-handler figures for the handlers routed here (operator hook)."""
    settings = StreamsSettings.from_config(config)
    client = connect(settings.redis_url, "admin")
    try:
        return collect_stats(client, settings, subscriptions)
    finally:
        client.close()
