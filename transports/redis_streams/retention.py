"""Retention: trim streams without ever deleting an entry some group has not acknowledged.

Plain ``XADD ... MAXLEN ~`` (or ``XTRIM MAXLEN``) evicts the oldest entries whether or not
every group has consumed them, so the bus never uses it. Instead, per stream:

1. the *safe id* is the smallest id any group still needs: for each group, its oldest pending
   id (``XPENDING`` summary), or the id after its last-delivered id when nothing is pending
   (entries up to there were acknowledged). Entries below it are acknowledged by every group.
   Those bounds only move forward, so an id computed a moment ago is still safe.
2. ``EVENTBUS_STREAM_MAXLEN``: ``XTRIM MINID ~ <safe id> LIMIT <length - maxlen>`` removes at
   most the excess, and only below the safe id; ``~`` removes whole internal nodes, so the
   stream stays at or a little above the limit (approximate, and cheap).
3. ``EVENTBUS_STREAM_MAX_AGE_MS``: ``XTRIM MINID ~ min(<safe id>, <now - age>)``.

A slow or stopped group therefore makes its streams grow past the limit (watch
``flask events stats``); nothing it has not acknowledged is lost. What is trimmed is counted
in the hash ``P:trimmed`` (stream key -> entries). Also here: deleting consumers idle longer
than ``EVENTBUS_CONSUMER_EXPIRY_MS`` that hold no pending entry, checked and deleted
atomically by a script (``XGROUP DELCONSUMER`` would make a consumer's pending entries
unclaimable). :func:`maintain` is the worker's loop that does both every
``EVENTBUS_MAINTENANCE_INTERVAL_MS``; several workers running it at once is harmless.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from typing import Any

from redis.exceptions import RedisError, ResponseError

from app.log import get_logger

from ..redis_common import RedisClient, next_id, parse_id, text
from .keys import StreamKeys
from .settings import StreamsSettings

__all__ = ["delete_idle_consumers", "maintain", "safe_trim_id", "trim_stream"]

_DELETE_IF_NO_PENDING = """
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then
  return -1
end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
"""


def safe_trim_id(client: RedisClient, stream: str) -> str | None:
    """The smallest id any group of ``stream`` still needs; ``None`` if it has no group."""
    bounds = []
    for group in client.xinfo_groups(stream):
        oldest = client.xpending(stream, group["name"])["min"] if int(group["pending"]) else None
        if oldest is not None:
            bounds.append(text(oldest))
        else:  # nothing pending (or all acknowledged since XINFO): up to last-delivered is done
            bounds.append(next_id(text(group["last-delivered-id"])))
    return min(bounds, key=parse_id) if bounds else None


def trim_stream(
    client: RedisClient,
    keys: StreamKeys,
    stream: str,
    *,
    maxlen: int | None,
    max_age_ms: int | None,
    now_ms: int,
) -> int:
    """Trim ``stream`` as the module docstring says; return (and count) entries removed."""
    try:
        safe = safe_trim_id(client, stream)
    except ResponseError:
        return 0  # the stream does not exist (yet)
    if safe is None:
        safe = f"{now_ms + 1}-0"
    removed = 0
    if max_age_ms:
        cutoff = min(safe, f"{max(0, now_ms - max_age_ms)}-0", key=parse_id)
        removed += int(client.xtrim(stream, minid=cutoff, approximate=True))
    if maxlen:
        excess = int(client.xlen(stream)) - maxlen
        if excess > 0:
            removed += int(client.xtrim(stream, minid=safe, approximate=True, limit=excess))
    if removed:
        client.hincrby(keys.trimmed, stream, removed)
    return removed


def delete_idle_consumers(
    client: RedisClient, stream: str, group: str, expiry_ms: int, keep: Collection[str] = ()
) -> list[str]:
    """Delete consumers of ``group`` idle over ``expiry_ms`` with nothing pending."""
    script = client.register_script(_DELETE_IF_NO_PENDING)
    deleted = []
    try:
        consumers = client.xinfo_consumers(stream, group)
    except ResponseError:
        return []
    for row in consumers:
        name = text(row["name"])
        if name in keep or int(row["pending"]) or int(row["idle"]) < expiry_ms:
            continue
        if int(script(keys=[stream], args=[group, name])) >= 0:
            deleted.append(name)
    return deleted


def maintain(
    client: RedisClient,
    settings: StreamsSettings,
    plan: Mapping[str, tuple[str, ...]],
    own_consumers: Collection[str],
    stop: threading.Event,
) -> None:
    """Until ``stop``: trim every stream of ``plan`` (handler id -> streams) and delete the
    idle consumers of its groups, except ``own_consumers``. Errors are logged, and the next
    round tries again."""
    log: Any = get_logger("eventbus.streams")
    streams = sorted({stream for streams in plan.values() for stream in streams})
    while not stop.wait(settings.maintenance_interval_ms / 1000):
        try:
            seconds, micros = client.time()
            now_ms = int(seconds) * 1000 + int(micros) // 1000
            for stream in streams:
                removed = trim_stream(
                    client, settings.keys, stream,
                    maxlen=settings.maxlen, max_age_ms=settings.max_age_ms, now_ms=now_ms,
                )  # fmt: skip
                if removed:
                    log.info("retention.trimmed", stream=stream, entries=removed)
            for handler_id, handler_streams in plan.items():
                for stream in handler_streams:
                    gone = delete_idle_consumers(
                        client, stream, handler_id, settings.consumer_expiry_ms, own_consumers
                    )
                    if gone:
                        log.info(
                            "consumers.deleted", stream=stream, handler_id=handler_id,
                            consumers=gone,
                        )  # fmt: skip
        except Exception as exc:  # Redis trouble (or a bug): consumption goes on; next round
            log.warning(
                "maintenance.failed",
                error=f"{type(exc).__name__}: {exc}"[:300],
                exc_info=None if isinstance(exc, RedisError) else exc,
            )
