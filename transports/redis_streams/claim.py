"""Taking pending entries: one's own after a restart, idle ones from dead consumers, retries.

The delivery count Redis keeps per pending entry is what decides dead-lettering, and it is
checked BEFORE the handler runs. To keep that count equal to the number of times a handler
was actually started, entries that are not fresh (``>`` reads count 1) are bumped one at a
time, right before their handler runs, by :func:`reacquire`: an ``XCLAIM`` to oneself (which
increments the count and returns the body) in one ``MULTI`` with the ``XPENDING`` that tells
the count and owner before. Bulk moves never bump: :func:`autoclaim` uses ``XAUTOCLAIM ...
JUSTID`` and :func:`own_pending` uses ``XPENDING``. So a batch stranded by a crash gains one
delivery only for the entry whose handler was running, and a handler that kills its process
still reaches the dead-letter stream after exactly ``EVENTBUS_MAX_DELIVERIES`` starts.

Version notes: Redis 7.0+ answers ``XAUTOCLAIM`` with a third element listing pending entries
whose body was deleted (it drops them from the pending list); 6.2 answers with two elements
and claims such entries with a nil body. Both shapes are handled.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from ..redis_common import RedisClient

__all__ = [
    "Reacquired",
    "autoclaim",
    "own_pending",
    "parse_autoclaim",
    "reacquire",
]

_PAGES_PER_CLAIM = 10
_AUTOCLAIM = (
    "return redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], "
    "'COUNT', ARGV[5], 'JUSTID')"
)
"""XAUTOCLAIM through EVAL: its reply comes back whole (redis-py's parser drops the cursor of
a JUSTID reply, on one node and on a cluster alike); one key, so any topology routes it."""


@dataclass(frozen=True)
class Reacquired:
    """What :func:`reacquire` found.

    ``claimed``: the entry is ours with ``fields`` and ``deliveries`` (count after the bump);
    ``deleted``: it is pending but its body is gone (trimmed or XDEL'd); ``gone``: it is no
    longer pending, or another consumer holds it now; leave it alone.
    """

    state: Literal["claimed", "deleted", "gone"]
    fields: dict[Any, Any] = field(default_factory=dict)
    deliveries: int = 0


def parse_autoclaim(reply: Any) -> tuple[bytes, list[bytes], list[bytes]]:
    """``(cursor, claimed ids, deleted ids)`` from a raw ``XAUTOCLAIM ... JUSTID`` reply."""
    cursor = reply[0]
    claimed = [entry for entry in reply[1] if entry is not None]
    deleted = list(reply[2]) if len(reply) > 2 and reply[2] else []
    return cursor, claimed, deleted


def autoclaim(
    client: RedisClient, stream: str, group: str, consumer: str, *, min_idle_ms: int, count: int
) -> tuple[list[bytes], list[bytes]]:
    """Move entries idle over ``min_idle_ms`` to ``consumer`` without bumping their counts.

    Returns ``(claimed ids, deleted ids)``; deleted ids (Redis 7.0+) are no longer pending
    anywhere. Walks the pending list from the start, at most a bounded number of pages.
    """
    cursor: Any = b"0-0"
    claimed: list[bytes] = []
    deleted: list[bytes] = []
    for _ in range(_PAGES_PER_CLAIM):
        reply = client.eval(_AUTOCLAIM, 1, stream, group, consumer, min_idle_ms, cursor, count)
        cursor, more, gone = parse_autoclaim(reply)
        claimed += more
        deleted += gone
        if cursor in (b"0-0", "0-0") or len(claimed) >= count:
            break
    return claimed, deleted


def own_pending(
    client: RedisClient, stream: str, group: str, consumer: str, page: int = 100
) -> Iterator[tuple[bytes, int]]:
    """``(entry id, idle ms)`` of every entry pending for ``consumer``, oldest first."""
    start: bytes | str = "-"
    while True:
        rows: list[dict[str, Any]] = cast(
            "list[dict[str, Any]]",
            client.xpending_range(stream, group, start, "+", page, consumername=consumer),
        )
        for row in rows:
            yield row["message_id"], int(row["time_since_delivered"])
        if len(rows) < page:
            return
        last = rows[-1]["message_id"]
        start = "(" + (last.decode() if isinstance(last, bytes) else last)


def reacquire(
    client: RedisClient,
    stream: str,
    group: str,
    consumer: str,
    entry_id: bytes,
    *,
    min_idle_ms: int,
) -> Reacquired:
    """Bump and fetch one pending entry for ``consumer``, if nobody took it since.

    ``min_idle_ms`` is how long the entry must have been untouched: a consumer that took it
    meanwhile reset its idle time, so the claim fails and the entry is left to it.
    """
    pipe = client.pipeline(transaction=True)
    pipe.xpending_range(stream, group, entry_id, entry_id, 1)
    pipe.xclaim(stream, group, consumer, min_idle_ms, [entry_id])
    before, claimed = pipe.execute()
    if not before:
        return Reacquired("gone")
    idle_ms, deliveries = _pending_row(before[0])
    if claimed:
        claimed_id, fields = claimed[0]
        if claimed_id is None or not fields:
            return Reacquired("deleted", deliveries=deliveries)
        return Reacquired("claimed", _field_map(fields), deliveries + 1)
    if idle_ms < min_idle_ms:
        return Reacquired("gone")
    return Reacquired("deleted", deliveries=deliveries)


def _pending_row(row: Any) -> tuple[int, int]:
    """``(idle ms, deliveries)`` of one ``XPENDING`` row, parsed (a dict) or raw (a list).

    redis-py parses the replies of a ``MULTI`` on one Redis, but its cluster client returns
    them raw: ``[id, consumer, idle ms, deliveries]``.
    """
    if isinstance(row, dict):
        return int(row["time_since_delivered"]), int(row["times_delivered"])
    return int(row[2]), int(row[3])


def _field_map(fields: Any) -> dict[Any, Any]:
    """An entry's fields as a dict, from a parsed (dict) or raw (flat list) reply."""
    if isinstance(fields, dict):
        return fields
    return dict(zip(fields[::2], fields[1::2], strict=True))
