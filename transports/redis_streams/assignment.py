"""Which consumers a Streams worker runs: its handlers, their streams, one consumer per slot.

A :class:`ConsumerSet` holds, for the handlers a worker serves (:func:`select_subscriptions`),
the streams each handler's group reads (``plan``) and one :class:`GroupConsumer` per slot
(``concurrency``), handler and read set (on a Redis Cluster one read set per event type, whose
stream and the handler's replay stream share a slot; on one Redis one read set per handler).
It grows when discovery finds the streams of undeclared event names a wildcard handler
matches (:meth:`discover`, then :meth:`adopt`). It creates groups and consumers; running them
is the worker's. Not thread-safe: the worker changes it from one thread at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from fnmatch import fnmatchcase

from app.core.events.bus import EventBus
from app.core.events.subscriptions import Subscription

from ..redis_common import RedisClient
from .consumer import GroupConsumer
from .dead_letters import TRANSPORT_NAME
from .delivery import ContextFactory, EntryDelivery
from .discovery import discovered_event_types
from .groups import ensure_group
from .keys import handler_event_types
from .settings import StreamsSettings

__all__ = ["ConsumerSet", "select_subscriptions"]


def select_subscriptions(
    subscriptions: Iterable[Subscription], patterns: Sequence[str] = ()
) -> list[Subscription]:
    """The subscriptions routed to Redis Streams whose handler id matches one of ``patterns``."""
    return [
        sub
        for sub in subscriptions
        if sub.transport == TRANSPORT_NAME
        and (not patterns or any(fnmatchcase(sub.handler_id, p) for p in patterns))
    ]


class ConsumerSet:
    """The plan and the consumers of one worker named ``name``; see the module docstring."""

    def __init__(
        self,
        bus: EventBus,
        settings: StreamsSettings,
        client: RedisClient,
        subscriptions: Sequence[Subscription],
        *,
        name: str,
        concurrency: int,
        context: ContextFactory | None,
        after_delivery: Callable[[], None] | None,
    ) -> None:
        self.bus = bus
        self.settings = settings
        self.client = client
        self.subscriptions = tuple(subscriptions)
        self.name = name
        self.concurrency = concurrency
        self._context = context
        self._after_delivery = after_delivery
        keys = settings.keys
        types = handler_event_types(subscriptions, bus.known_events)
        self.plan: dict[str, tuple[str, ...]] = {
            handler_id: keys.handler_streams(handler_id, names)
            for handler_id, names in sorted(types.items())
        }
        """Handler id → every stream its group reads here."""
        self.consumers = [
            self._consumer_of(slot, handler_id, streams)
            for slot in range(concurrency)
            for handler_id, names in sorted(types.items())
            for streams in keys.read_sets(handler_id, names)
        ]

    def consumer(self, slot: int) -> str:
        """The consumer name of one slot: ``<worker name>:<slot>``."""
        return f"{self.name}:{slot}"

    def create_groups(self) -> None:
        """Create every group of the plan on each of its streams (at ``0``, idempotent)."""
        for handler_id, streams in self.plan.items():
            for stream in streams:
                ensure_group(self.client, stream, handler_id)

    def discover(self) -> dict[str, frozenset[str]]:
        """The undeclared event types whose streams exist and some wildcard handler here
        matches, less those already read (see ``discovery``)."""
        found = discovered_event_types(
            self.client, self.settings.keys, self.subscriptions, self.bus.known_events
        )
        reading = {stream for streams in self.plan.values() for stream in streams}
        keys = self.settings.keys
        new = {
            handler_id: frozenset(t for t in names if keys.stream(t) not in reading)
            for handler_id, names in found.items()
        }
        return {handler_id: names for handler_id, names in new.items() if names}

    def adopt(self, found: dict[str, frozenset[str]]) -> list[GroupConsumer]:
        """Create the groups of ``found`` (at ``0``) and its consumers; return the new ones."""
        keys = self.settings.keys
        added: list[GroupConsumer] = []
        for handler_id, names in sorted(found.items()):
            streams = [keys.stream(name) for name in sorted(names)]
            if keys.hash_tagged:  # each event type is read with its own replay stream
                read_sets = list(keys.read_sets(handler_id, names))
            else:  # the handler's replay stream is read by its first consumers already
                read_sets = [tuple(streams)]
            for streams_of_set in read_sets:
                for stream in streams_of_set:
                    ensure_group(self.client, stream, handler_id)
            self.plan[handler_id] = (*self.plan[handler_id], *(s for r in read_sets for s in r))
            added += [
                self._consumer_of(slot, handler_id, read_set)
                for slot in range(self.concurrency)
                for read_set in read_sets
            ]
        self.consumers += added
        return added

    def _consumer_of(self, slot: int, handler_id: str, streams: tuple[str, ...]) -> GroupConsumer:
        delivery = EntryDelivery(
            self.bus,
            self.client,
            self.settings,
            handler_id,
            self.consumer(slot),
            context=self._context,
            after_delivery=self._after_delivery,
        )
        return GroupConsumer(delivery, streams)
