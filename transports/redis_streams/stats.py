"""``flask events stats`` for Redis Streams: backlog per handler, dead letters, risky settings.

Per handler (summed over its streams): ``pending`` (delivered, not acknowledged), ``lag``
(entries not yet delivered to its group: ``XINFO GROUPS`` ``lag``, Redis 7.0+; ``None`` on
older servers or while Redis cannot tell), the age of its oldest pending event (from the
entry id's timestamp, against the Redis clock), its consumers, and its dead letters. Notes
list entries trimmed by retention and Redis settings that weaken the guarantees
(:func:`persistence_warnings`). Read-only; a missing stream or group counts as empty.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.exceptions import RedisError, ResponseError

from app.core.events.subscriptions import Subscription

from ..operations import HandlerStats, TransportStats
from ..redis_common import RedisClient, id_ms, text
from .dead_letters import TRANSPORT_NAME, StreamsDeadLetterStore
from .keys import handler_event_types
from .settings import StreamsSettings

__all__ = ["collect_stats", "persistence_warnings"]


def collect_stats(
    client: RedisClient, settings: StreamsSettings, subscriptions: Sequence[Subscription]
) -> TransportStats:
    """Read the figures for every handler in ``subscriptions``."""
    keys = settings.keys
    seconds, micros = client.time()
    now_ms = int(seconds) * 1000 + int(micros) // 1000
    store = StreamsDeadLetterStore(client, keys)
    dead_by_handler = store.count_by_handler()
    handlers = []
    for handler_id, event_types in sorted(handler_event_types(subscriptions).items()):
        handlers.append(
            _handler_stats(
                client,
                handler_id,
                keys.handler_streams(handler_id, event_types),
                now_ms,
                dead_by_handler.get(handler_id, 0),
            )
        )
    trimmed = {text(stream): int(count) for stream, count in client.hgetall(keys.trimmed).items()}
    notes = [f"trimmed by retention (all acknowledged): {sum(trimmed.values())} entries"]
    notes += persistence_warnings(client)
    return TransportStats(TRANSPORT_NAME, tuple(handlers), store.count(), tuple(notes))


def _handler_stats(
    client: RedisClient, handler_id: str, streams: Sequence[str], now_ms: int, dead_letters: int
) -> HandlerStats:
    pending = 0
    lag: int | None = 0
    oldest: int | None = None
    consumers: set[str] = set()
    for stream in streams:
        try:
            groups = client.xinfo_groups(stream)
        except ResponseError:
            continue  # no such stream yet: nothing pending, no lag
        group = next((g for g in groups if text(g["name"]) == handler_id), None)
        if group is None:
            continue
        pending += int(group["pending"])
        group_lag = group.get("lag")
        lag = None if lag is None or group_lag is None else lag + int(group_lag)
        if int(group["pending"]):
            summary = client.xpending(stream, handler_id)
            if summary.get("min"):
                first = id_ms(summary["min"])
                oldest = first if oldest is None else min(oldest, first)
        consumers.update(text(row["name"]) for row in client.xinfo_consumers(stream, handler_id))
    age = None if oldest is None else max(0.0, (now_ms - oldest) / 1000)
    return HandlerStats(handler_id, pending, lag, age, tuple(sorted(consumers)), dead_letters)


def persistence_warnings(client: RedisClient) -> list[str]:
    """Warnings about Redis settings that make acknowledged work losable (empty if fine)."""
    try:
        config = client.config_get("appendonly")
        config.update(client.config_get("save"))
        config.update(client.config_get("maxmemory-policy"))
    except RedisError:
        return ["could not read the Redis configuration (CONFIG GET refused)"]
    warnings = []
    if text(config.get("appendonly", "")) != "yes":
        saved = "RDB snapshots only" if text(config.get("save", "")) else "no persistence"
        warnings.append(
            f"appendonly is off ({saved}): a Redis crash loses streams, groups and pending "
            "entries; set appendonly yes"
        )
    policy = text(config.get("maxmemory-policy", "noeviction"))
    if policy != "noeviction":
        warnings.append(f"maxmemory-policy is {policy}: Redis may evict streams; use noeviction")
    return warnings
