"""Dispatch plans: what one ``publish`` of an event name does, worked out once per name.

A plan is a plain 2-tuple ``(in-process handlers, remote deliveries)``. The second item is
``None`` when publishing needs nothing but calling the in-process handlers (no remote
transport, nothing to validate, log or signal): one ``is None`` test then picks the bus's hot
path. A plain tuple on purpose: CPython specializes unpacking an exact 2-tuple, not a
NamedTuple. The bus caches plans per event name and drops them whenever subscriptions or the
flags they depend on change. Also here: the name checks of strict mode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .exceptions import UnknownEventError
from .subscriptions import Handler, Subscription, matches, pattern_is_wildcard
from .transport import Transport

__all__ = [
    "INPROCESS",
    "Plan",
    "Remote",
    "build_plan",
    "check_name",
    "check_pattern",
    "handler_count",
    "same_callable",
    "subscriptions_for",
]

INPROCESS = "inprocess"
"""The transport name of handlers the bus calls itself, inside ``publish()``."""

Remote = tuple[tuple[Transport, tuple[Subscription, ...]], ...]
Plan = tuple[tuple[Handler, ...], Remote | None]


def subscriptions_for(
    subscriptions: Iterable[Subscription], event_type: str
) -> tuple[Subscription, ...]:
    """The subscriptions an event named ``event_type`` reaches, one per handler id, in
    subscription order."""
    seen: dict[str, Subscription] = {}
    for sub in subscriptions:
        if sub.handler_id not in seen and matches(sub.pattern, event_type):
            seen[sub.handler_id] = sub
    return tuple(seen.values())


def build_plan(
    subscriptions: Iterable[Subscription],
    event_type: str,
    transport: Callable[[str], Transport],
    slow: bool,
) -> Plan:
    """The plan of ``event_type``: in-process handlers, then one delivery per remote
    transport (found by name with ``transport``). ``slow``: validation, debug logging or
    signals are on, so even an in-process-only plan takes the checked path."""
    local: list[Subscription] = []
    remote: dict[str, list[Subscription]] = {}
    for sub in subscriptions_for(subscriptions, event_type):
        if sub.transport == INPROCESS:
            local.append(sub)
        else:
            remote.setdefault(sub.transport, []).append(sub)
    deliveries = tuple((transport(name), tuple(subs)) for name, subs in remote.items())
    return tuple(sub.handler for sub in local), deliveries if deliveries or slow else None


def handler_count(local: tuple[Handler, ...], remote: Remote) -> int:
    """How many handlers a plan reaches."""
    return len(local) + sum(len(subs) for _, subs in remote)


def check_pattern(pattern: str, known: frozenset[str], strict: bool) -> None:
    """In strict mode, a subscription pattern must name, or match, a known event."""
    if not strict:
        return
    if pattern_is_wildcard(pattern):
        if not any(matches(pattern, name) for name in known):
            raise UnknownEventError(f"the pattern {pattern!r} matches no member of EventType")
    elif pattern not in known:
        raise UnknownEventError(_unknown_message(pattern))


def check_name(event_type: object, known: frozenset[str], strict: bool) -> None:
    """An event name is a ``str``; in strict mode, a known one."""
    if not isinstance(event_type, str):
        raise UnknownEventError(f"the event name must be a str, got {type(event_type).__name__}")
    if strict and event_type not in known:
        raise UnknownEventError(_unknown_message(event_type))


def same_callable(left: Handler, right: Handler) -> bool:
    """Whether two handlers are the same callable (bound methods compare equal)."""
    return left is right or left == right


def _unknown_message(name: object) -> str:
    return (
        f"{name!r} is not a member of EventType: add it to app/core/events/types.py, "
        "or set EVENTBUS_STRICT=False"
    )
