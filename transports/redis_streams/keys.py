"""Where the Redis Streams transport keeps things: every key starts with ``EVENTBUS_KEY_PREFIX``.

Two key layouts (``P`` is the prefix). The **flat** layout, for one Redis (or a Sentinel
master)::

    P:stream:<event type>     one stream per event type; one XADD per published event
    P:replay:<handler id>     events replayed from the dead letters for ONE handler
    P:dead-letters            the dead-letter stream (one entry per dead-lettered delivery)
    P:trimmed                 hash: stream key -> entries removed by retention (all acked)

The **hash-tagged** layout, for a Redis Cluster, puts each event type's stream together with
what must change atomically with it in one hash slot (``{...}`` is the Redis Cluster hash
tag), and different event types in different slots, so they spread over the masters::

    P:stream:{<event type>}
    P:replay:<handler id>:{<event type>}
    P:dead-letters:{<event type>}
    P:trimmed

Every multi-key command and every ``MULTI`` the transport sends then touches one slot: a dead
letter (``XADD`` dead letters + ``XACK`` its stream), a replay (``XADD`` replay + ``XDEL``
dead letter) and one ``XREADGROUP`` over a handler's stream and replay stream of one event
type. ``EVENTBUS_STREAMS_KEY_LAYOUT`` picks the layout (``auto``: hash-tagged on
``redis+cluster://``, flat otherwise); see docs/transports/redis-streams.md for moving between
them.

Every handler has one consumer group, named by its handler id, on each stream of an event
type it subscribes to (a wildcard subscription means every matching known event name, and
with ``EVENTBUS_STRICT=False`` the undeclared names ``discovery`` finds)
and on its replay stream(s). Consumer names inside a group are ``<worker name>:<slot>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from app.core.events.subscriptions import Subscription, matches, pattern_is_wildcard
from app.core.events.types import KNOWN_EVENTS

__all__ = ["StreamKeys", "event_types_for", "handler_event_types", "hash_tag"]


def hash_tag(key: str) -> str | None:
    """The Redis Cluster hash tag of ``key`` (what is between its first ``{`` and ``}``)."""
    start = key.find("{")
    end = key.find("}", start + 1) if start >= 0 else -1
    return key[start + 1 : end] if end > start + 1 else None


@dataclass(frozen=True)
class StreamKeys:
    """Builds and reads back the transport's key names for one prefix and layout. Immutable."""

    prefix: str
    hash_tagged: bool = False

    def stream(self, event_type: str) -> str:
        """The stream an event type is published to."""
        if self.hash_tagged:
            return f"{self.prefix}:stream:{{{event_type}}}"
        return f"{self.prefix}:stream:{event_type}"

    def replay(self, handler_id: str, event_type: str | None = None) -> str:
        """The stream of dead letters replayed for one handler (only its group reads it).

        Hash-tagged: one per handler and event type (``event_type`` is then required).
        """
        if self.hash_tagged:
            if event_type is None:
                raise ValueError("the hash-tagged layout has one replay stream per event type")
            return f"{self.prefix}:replay:{handler_id}:{{{event_type}}}"
        return f"{self.prefix}:replay:{handler_id}"

    @property
    def dead_letters(self) -> str:
        """The dead-letter stream of the flat layout."""
        return f"{self.prefix}:dead-letters"

    def dead_letters_of(self, stream: str) -> str:
        """The dead-letter stream that entries of ``stream`` (event or replay) go to."""
        tag = hash_tag(stream) if self.hash_tagged else None
        return f"{self.prefix}:dead-letters:{{{tag}}}" if tag else self.dead_letters

    @property
    def dead_letters_pattern(self) -> str:
        """A SCAN pattern matching every dead-letter stream under this prefix and layout."""
        return f"{self.prefix}:dead-letters:{{*}}" if self.hash_tagged else self.dead_letters

    def replay_of(self, handler_id: str, stream: str) -> str:
        """The replay stream for ``handler_id`` of events that came from ``stream``."""
        return self.replay(handler_id, hash_tag(stream) if self.hash_tagged else None)

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
        if not stream_key.startswith(head):
            return None
        name = stream_key[len(head) :]
        if self.hash_tagged and name.startswith("{") and name.endswith("}"):
            return name[1:-1]
        return name

    def handler_streams(self, handler_id: str, event_types: Iterable[str]) -> tuple[str, ...]:
        """Every stream a handler's group reads: its event streams, then its replay stream(s)."""
        return tuple(stream for part in self.read_sets(handler_id, event_types) for stream in part)

    def read_sets(self, handler_id: str, event_types: Iterable[str]) -> tuple[tuple[str, ...], ...]:
        """The handler's streams, split into the sets that one ``XREADGROUP`` may read together.

        Flat: one set (every event stream, then the replay stream). Hash-tagged: one set per
        event type (its stream and the handler's replay stream of it), each in one slot.
        """
        names = sorted(event_types)
        if self.hash_tagged:
            return tuple((self.stream(name), self.replay(handler_id, name)) for name in names)
        return ((*(self.stream(name) for name in names), self.replay(handler_id)),)


def event_types_for(pattern: str, known: Iterable[str] = KNOWN_EVENTS) -> tuple[str, ...]:
    """The event types a subscription pattern reaches: itself, or each matching known name
    (undeclared names are found by ``discovery``)."""
    if not pattern_is_wildcard(pattern):
        return (str(pattern),)
    return tuple(str(name) for name in known if matches(pattern, str(name)))


def handler_event_types(
    subscriptions: Sequence[Subscription], known: Iterable[str] = KNOWN_EVENTS
) -> dict[str, frozenset[str]]:
    """Handler id -> every event type its subscriptions reach (patterns expanded against
    ``known``)."""
    names = tuple(known)
    found: dict[str, set[str]] = {}
    for sub in subscriptions:
        found.setdefault(sub.handler_id, set()).update(event_types_for(sub.pattern, names))
    return {handler_id: frozenset(types) for handler_id, types in found.items()}
