"""The dead-letter streams: writing a dead letter, and the operator's ``DeadLetterStore``.

A dead letter is written by :func:`dead_letter` in ONE ``MULTI``: ``XADD`` to the dead-letter
stream of its source stream (``P:dead-letters``, or ``P:dead-letters:{<event type>}`` in the
hash-tagged layout: same slot as the source) with the handler id, source stream and entry id,
delivery count, error class, reason, time, consumer, and every original field prefixed
``event.``; and ``XACK`` of the entry for that handler's group; so an entry is never both
acknowledged and unrecorded. Dead-letter streams are never trimmed by the bus:
``flask events dlq purge`` empties them.

:class:`StreamsDeadLetterStore` implements ``app.core.events.dead_letters.DeadLetterStore``.
Ids are the entry ids of the dead-letter stream; in the hash-tagged layout
``<entry id>@<event type>`` (which of the streams). ``replay`` writes the original fields to
the handler's replay stream (``P:replay:<handler>``, or ``P:replay:<handler>:{<event type>}``),
which only that handler's group reads (the event's other handlers are not affected), and
deletes the dead letter in the same ``MULTI``. Thread safety: as redis-py's client (safe).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from app.core.events.dead_letters import DeadLetter
from app.core.events.envelope import Envelope, utc_timestamp

from ..redis_common import (
    RedisClient,
    is_stream_id,
    parse_id,
    redis_errors_as_transport_errors,
    text,
)
from .groups import ensure_group
from .keys import StreamKeys, hash_tag

__all__ = [
    "TRANSPORT_NAME",
    "StreamsDeadLetterStore",
    "dead_letter",
]

TRANSPORT_NAME = "redis-streams"
Entries = list[tuple[bytes, dict[bytes, bytes]]]
_EVENT = "event."
_MAX_REASON = 1000


def dead_letter(
    client: RedisClient,
    keys: StreamKeys,
    *,
    stream: str,
    group: str,
    entry_id: bytes | str,
    fields: Mapping[Any, Any],
    deliveries: int,
    error_class: str,
    reason: str,
    consumer: str,
) -> None:
    """Record the entry in the dead-letter stream and acknowledge it, atomically."""
    record: dict[Any, Any] = {
        "handler": group,
        "stream": stream,
        "entry_id": entry_id,
        "deliveries": str(deliveries),
        "error_class": error_class,
        "reason": reason[:_MAX_REASON],
        "dead_at": utc_timestamp(),
        "consumer": consumer,
    }
    for name, value in fields.items():
        key = text(name)
        record[_EVENT + key] = value
    pipe = client.pipeline(transaction=True)
    pipe.xadd(keys.dead_letters_of(stream), record)
    pipe.xack(stream, group, entry_id)
    pipe.execute()


class StreamsDeadLetterStore:
    """The dead letters of the Redis Streams transport, oldest first."""

    transport = TRANSPORT_NAME

    def __init__(self, client: RedisClient, keys: StreamKeys) -> None:
        self._client = client
        self._keys = keys

    @redis_errors_as_transport_errors
    def list(self, limit: int = 100) -> Sequence[DeadLetter]:
        """The oldest ``limit`` dead letters (over every dead-letter stream)."""
        found: list[tuple[tuple[int, int], str, bytes, Any]] = []
        for stream in self._streams():
            for entry_id, fields in self._range(stream, "-", "+", limit):
                found.append((parse_id(entry_id), stream, entry_id, fields))
        found.sort(key=lambda row: row[0])
        return [
            _dead_letter(self._public_id(stream, entry_id), fields)
            for _, stream, entry_id, fields in found[:limit]
        ]

    @redis_errors_as_transport_errors
    def get(self, dead_letter_id: str) -> DeadLetter:
        """One dead letter; ``KeyError`` if unknown (or not a dead-letter id at all)."""
        stream, entry_id = self._locate(dead_letter_id)
        rows = self._range(stream, entry_id, entry_id, 1)
        if not rows:
            raise KeyError(dead_letter_id)
        return _dead_letter(dead_letter_id, rows[0][1])

    @redis_errors_as_transport_errors
    def replay(self, dead_letter_id: str) -> None:
        """Put the original event back for its handler only, then drop the dead letter."""
        letter = self.get(dead_letter_id)
        if letter.envelope is None:
            raise ValueError(
                f"dead letter {dead_letter_id} has no valid event to replay ({letter.reason})"
            )
        stream, entry_id = self._locate(dead_letter_id)
        replay = self._keys.replay_of(letter.handler_id, stream)  # same slot as ``stream``
        ensure_group(self._client, replay, letter.handler_id)
        pipe = self._client.pipeline(transaction=True)
        fields: dict[Any, Any] = dict(letter.envelope.to_fields())
        pipe.xadd(replay, fields)
        pipe.xdel(stream, entry_id)
        pipe.execute()

    @redis_errors_as_transport_errors
    def purge(self, dead_letter_id: str | None = None) -> int:
        """Delete one dead letter (or all when ``None``); return how many were deleted."""
        if dead_letter_id is None:
            deleted = 0
            for stream in self._streams():
                pipe = self._client.pipeline(transaction=True)
                pipe.xlen(stream)
                pipe.delete(stream)
                count, _ = pipe.execute()
                deleted += int(count)
            return deleted
        try:
            stream, entry_id = self._locate(dead_letter_id)
        except KeyError:
            return 0
        return int(self._client.xdel(stream, entry_id))

    @redis_errors_as_transport_errors
    def count(self) -> int:
        """How many dead letters there are."""
        return sum(int(self._client.xlen(stream)) for stream in self._streams())

    @redis_errors_as_transport_errors
    def count_by_handler(self, scan_limit: int = 100_000) -> dict[str, int]:
        """Dead letters per handler id (reads at most ``scan_limit`` entries)."""
        counts: dict[str, int] = {}
        seen = 0
        for stream in self._streams():
            start: str = "-"
            while seen < scan_limit:
                rows = self._range(stream, start, "+", 1000)
                for entry_id, fields in rows:
                    handler = text(fields.get(b"handler", b"?"))
                    counts[handler] = counts.get(handler, 0) + 1
                    start = "(" + text(entry_id)
                seen += len(rows)
                if len(rows) < 1000:
                    break
        return counts

    def _range(self, stream: str, start: str, end: str, count: int) -> Entries:
        """``XRANGE``: ``(entry id, fields)`` pairs, as bytes."""
        return cast(Entries, self._client.xrange(stream, start, end, count=count))

    def _streams(self) -> tuple[str, ...]:
        """Every dead-letter stream: the one of the flat layout, or each existing tagged one."""
        if not self._keys.hash_tagged:
            return (self._keys.dead_letters,)
        found = self._client.scan_iter(match=self._keys.dead_letters_pattern, count=1000)
        return tuple(sorted({text(key) for key in found}))

    def _public_id(self, stream: str, entry_id: bytes | str) -> str:
        if not self._keys.hash_tagged:
            return text(entry_id)
        return f"{text(entry_id)}@{hash_tag(stream)}"

    def _locate(self, dead_letter_id: str) -> tuple[str, str]:
        """``(dead-letter stream, entry id)`` of a public id; ``KeyError`` if malformed."""
        entry_id, at, event_type = str(dead_letter_id).partition("@")
        if not is_stream_id(entry_id) or bool(at) != self._keys.hash_tagged:
            raise KeyError(dead_letter_id)
        if not at:
            return self._keys.dead_letters, entry_id
        if not event_type or any(char in event_type for char in "{}*?[]"):
            raise KeyError(dead_letter_id)
        return self._keys.dead_letters_of(self._keys.stream(event_type)), entry_id


def _dead_letter(letter_id: str, fields: Mapping[bytes, bytes]) -> DeadLetter:
    """Any stored entry as a dead letter, forged or not: an unreadable event gives no
    envelope (its raw fields stay), an unreadable delivery count gives 0."""
    meta = {text(k): text(v) for k, v in fields.items() if not k.startswith(b"event.")}
    original = {k[len(_EVENT) :]: v for k, v in fields.items() if k.startswith(b"event.")}
    try:
        envelope: Envelope | None = Envelope.from_fields(original)
    except Exception:  # MalformedEnvelopeError, or anything a forged entry provokes
        envelope = None
    return DeadLetter(
        id=letter_id,
        transport=TRANSPORT_NAME,
        handler_id=meta.get("handler", "?"),
        reason=meta.get("reason", ""),
        error_class=meta.get("error_class", ""),
        deliveries=_count(meta.get("deliveries")),
        dead_at=meta.get("dead_at", ""),
        envelope=envelope,
        raw={text(k): text(v) for k, v in original.items()},
    )


def _count(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0
