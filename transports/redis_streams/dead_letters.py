"""The dead-letter stream: writing a dead letter, and the operator's ``DeadLetterStore``.

A dead letter is written by :func:`dead_letter` in ONE ``MULTI``: ``XADD`` to
``P:dead-letters`` (handler id, source stream and entry id, delivery count, error class,
reason, time, consumer, and every original field prefixed ``event.``) and ``XACK`` of the
entry for that handler's group; so an entry is never both acknowledged and unrecorded.
The dead-letter stream is never trimmed by the bus: ``flask events dlq purge`` empties it.

:class:`StreamsDeadLetterStore` implements ``app.core.events.dead_letters.DeadLetterStore``.
``replay`` writes the original fields to the handler's replay stream ``P:replay:<handler>``,
which only that handler's group reads (the event's other handlers are not affected), and
deletes the dead letter in the same ``MULTI``. Thread safety: as redis-py's client (safe).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.core.events.dead_letters import DeadLetter
from app.core.events.envelope import Envelope, utc_timestamp
from app.core.events.exceptions import MalformedEnvelopeError

from ..redis_common import is_stream_id, redis_errors_as_transport_errors, text
from .groups import ensure_group
from .keys import StreamKeys

__all__ = [
    "TRANSPORT_NAME",
    "StreamsDeadLetterStore",
    "dead_letter",
]

TRANSPORT_NAME = "redis-streams"
_EVENT = "event."
_MAX_REASON = 1000


def dead_letter(
    client: Any,
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
    pipe.xadd(keys.dead_letters, record)
    pipe.xack(stream, group, entry_id)
    pipe.execute()


class StreamsDeadLetterStore:
    """The dead letters of the Redis Streams transport, oldest first."""

    transport = TRANSPORT_NAME

    def __init__(self, client: Any, keys: StreamKeys) -> None:
        self._client = client
        self._keys = keys

    @redis_errors_as_transport_errors
    def list(self, limit: int = 100) -> Sequence[DeadLetter]:
        """The oldest ``limit`` dead letters."""
        rows = self._client.xrange(self._keys.dead_letters, "-", "+", count=limit)
        return [_dead_letter(entry_id, fields) for entry_id, fields in rows]

    @redis_errors_as_transport_errors
    def get(self, dead_letter_id: str) -> DeadLetter:
        """One dead letter; ``KeyError`` if unknown (or not a stream id at all)."""
        if not is_stream_id(dead_letter_id):
            raise KeyError(dead_letter_id)
        rows = self._client.xrange(self._keys.dead_letters, dead_letter_id, dead_letter_id)
        if not rows:
            raise KeyError(dead_letter_id)
        return _dead_letter(*rows[0])

    @redis_errors_as_transport_errors
    def replay(self, dead_letter_id: str) -> None:
        """Put the original event back for its handler only, then drop the dead letter."""
        letter = self.get(dead_letter_id)
        if letter.envelope is None:
            raise ValueError(
                f"dead letter {dead_letter_id} has no valid event to replay ({letter.reason})"
            )
        replay = self._keys.replay(letter.handler_id)
        ensure_group(self._client, replay, letter.handler_id)
        pipe = self._client.pipeline(transaction=True)
        pipe.xadd(replay, letter.envelope.to_fields())
        pipe.xdel(self._keys.dead_letters, dead_letter_id)
        pipe.execute()

    @redis_errors_as_transport_errors
    def purge(self, dead_letter_id: str | None = None) -> int:
        """Delete one dead letter (or all when ``None``); return how many were deleted."""
        if dead_letter_id is None:
            pipe = self._client.pipeline(transaction=True)
            pipe.xlen(self._keys.dead_letters)
            pipe.delete(self._keys.dead_letters)
            count, _ = pipe.execute()
            return int(count)
        if not is_stream_id(dead_letter_id):
            return 0
        return int(self._client.xdel(self._keys.dead_letters, dead_letter_id))

    @redis_errors_as_transport_errors
    def count(self) -> int:
        """How many dead letters there are."""
        return int(self._client.xlen(self._keys.dead_letters))

    @redis_errors_as_transport_errors
    def count_by_handler(self, scan_limit: int = 100_000) -> dict[str, int]:
        """Dead letters per handler id (reads at most ``scan_limit`` entries)."""
        counts: dict[str, int] = {}
        start: str = "-"
        seen = 0
        while seen < scan_limit:
            rows = self._client.xrange(self._keys.dead_letters, start, "+", count=1000)
            for entry_id, fields in rows:
                handler = text(fields.get(b"handler", b"?"))
                counts[handler] = counts.get(handler, 0) + 1
                start = "(" + text(entry_id)
            seen += len(rows)
            if len(rows) < 1000:
                break
        return counts


def _dead_letter(entry_id: bytes, fields: Mapping[bytes, bytes]) -> DeadLetter:
    meta = {text(k): text(v) for k, v in fields.items() if not k.startswith(b"event.")}
    original = {k[len(_EVENT) :]: v for k, v in fields.items() if k.startswith(b"event.")}
    try:
        envelope: Envelope | None = Envelope.from_fields(original)
    except MalformedEnvelopeError:
        envelope = None
    return DeadLetter(
        id=text(entry_id),
        transport=TRANSPORT_NAME,
        handler_id=meta.get("handler", "?"),
        reason=meta.get("reason", ""),
        error_class=meta.get("error_class", ""),
        deliveries=int(meta.get("deliveries") or 0),
        dead_at=meta.get("dead_at", ""),
        envelope=envelope,
        raw={text(k): text(v) for k, v in original.items()},
    )
