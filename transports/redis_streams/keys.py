"""Where the Redis Streams transport keeps things: every key starts with ``EVENTBUS_KEY_PREFIX``.

Key layout (``P`` is the prefix)::

    P:stream:<event type>     one stream per event type; one XADD per published event
    P:replay:<handler id>     events replayed from the dead-letter stream for ONE handler
    P:dead-letters            the dead-letter stream (one entry per dead-lettered delivery)
    P:trimmed                 hash: stream key -> entries removed by retention (all acked)

Every handler has one consumer group, named by its handler id, on each stream of an event
type it subscribes to (a wildcard subscription means every matching ``EventType`` member)
and on its own replay stream. Consumer names inside a group are ``<worker name>:<slot>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.core.events.subscriptions import Subscription, matches, pattern_is_wildcard
from app.core.events.types import EventType

__all__ = ["StreamKeys", "event_types_for", "handler_event_types"]


@dataclass(frozen=True)
class StreamKeys:
    """Builds and reads back the transport's key names for one prefix. Immutable."""

    prefix: str

    def stream(self, event_type: str) -> str:
        """The stream an event type is published to."""
        return f"{self.prefix}:stream:{event_type}"

    def replay(self, handler_id: str) -> str:
        """The stream of dead letters replayed for one handler (only its group reads it)."""
        return f"{self.prefix}:replay:{handler_id}"

    @property
    def dead_letters(self) -> str:
        """The dead-letter stream."""
        return f"{self.prefix}:dead-letters"

    @property
    def trimmed(self) -> str:
        """The hash counting entries trimmed by retention, per stream key."""
        return f"{self.prefix}:trimmed"

    @property
    def stream_pattern(self) -> str:
        """A SCAN pattern matching every event stream under this prefix."""
        return f"{self.prefix}:stream:*"

    def event_type_of(self, stream_key: str) -> str | None:
        """The event type an event stream carries, ``None`` for any other key (replays)."""
        head = f"{self.prefix}:stream:"
        return stream_key[len(head) :] if stream_key.startswith(head) else None

    def handler_streams(self, handler_id: str, event_types: Iterable[str]) -> tuple[str, ...]:
        """Every stream a handler's group reads: its event streams, then its replay stream."""
        return (*(self.stream(name) for name in sorted(event_types)), self.replay(handler_id))


def event_types_for(pattern: str, known: Iterable[str] = EventType) -> tuple[str, ...]:
    """The event types a subscription pattern reaches: itself, or each matching member."""
    if not pattern_is_wildcard(pattern):
        return (str(pattern),)
    return tuple(str(name) for name in known if matches(pattern, str(name)))


def handler_event_types(subscriptions: Sequence[Subscription]) -> dict[str, frozenset[str]]:
    """Handler id -> every event type its subscriptions reach (patterns expanded)."""
    found: dict[str, set[str]] = {}
    for sub in subscriptions:
        found.setdefault(sub.handler_id, set()).update(event_types_for(sub.pattern))
    return {handler_id: frozenset(types) for handler_id, types in found.items()}
