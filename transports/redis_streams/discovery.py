"""Streams of undeclared event names, found for wildcard handlers (``EVENTBUS_STRICT=False``).

In strict mode every event name is in the one list of known events (``KNOWN_EVENTS``), so a
wildcard subscription (``"lab.*"``) is expanded against that list once, at start. Without
strict mode, a service may publish a name the list does not hold (``lab.result_ready``): the
publisher creates the stream and the matching handlers' groups (at ``0``) before its first
``XADD``, and a worker finds the stream by scanning ``P:stream:*``:

- at start (so a burst run or a restarted worker reads what was published before it);
- then every :attr:`StreamsSettings.claim_interval_s` (at most 5 s) while it runs, starting
  consumers for each stream it had not seen: a new matching stream is read within that time.

Each discovered stream gets the handler's group created at ``0`` if the publisher did not,
so nothing already written to it is missed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from threading import Event
from typing import Any

from app.core.events.subscriptions import Subscription, matches, pattern_is_wildcard

from ..redis_common import REDIS_ERRORS, RedisClient, describe_error, text
from .keys import StreamKeys

__all__ = ["discovered_event_types", "watch_for_streams"]


def discovered_event_types(
    client: RedisClient,
    keys: StreamKeys,
    subscriptions: Sequence[Subscription],
    known: Iterable[str],
) -> dict[str, frozenset[str]]:
    """Handler id -> the event types of existing streams its wildcard subscriptions match,
    leaving out the ``known`` names (those are expanded from the list already)."""
    wildcards = [sub for sub in subscriptions if pattern_is_wildcard(sub.pattern)]
    if not wildcards:
        return {}
    declared = set(known)
    names = set()
    for key in client.scan_iter(match=keys.stream_pattern, count=1000):
        name = keys.event_type_of(text(key))
        if name and name not in declared:
            names.add(name)
    found: dict[str, set[str]] = {}
    for sub in wildcards:
        for name in names:
            if matches(sub.pattern, name):
                found.setdefault(sub.handler_id, set()).add(name)
    return {handler_id: frozenset(types) for handler_id, types in found.items()}


def watch_for_streams(
    scan: Callable[[], dict[str, frozenset[str]]],
    consume: Callable[[dict[str, frozenset[str]]], None],
    interval_s: float,
    stop: Event,
    log: Any,
) -> None:
    """Until ``stop``: every ``interval_s``, hand what ``scan()`` finds (handler id -> event
    types not read yet) to ``consume``. A Redis error is logged and left to the next round
    (the consumers report an unreachable Redis themselves)."""
    while not stop.wait(interval_s):
        try:
            found = scan()
            if found:
                consume(found)
        except REDIS_ERRORS as exc:
            log.warning("worker.discovery_failed", error=describe_error(exc))
