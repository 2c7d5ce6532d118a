"""Subscriptions: which handler (by id) receives which event names, through which transport."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

__all__ = ["Handler", "Subscription", "default_handler_id", "matches", "pattern_is_wildcard"]

Handler = Callable[[dict[str, Any]], None]
"""A handler receives the payload dict, as in the seed; its return value is ignored."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """``handler`` receives events whose name matches ``pattern``, run by ``transport``.

    ``handler_id`` is the stable name workers look the handler up by (``<module>.<function>``
    for module handlers). ``owner`` is ``"loader"`` for subscriptions the module loader made.
    ``pinned`` subscriptions keep their transport when the router changes.
    """

    handler_id: str
    pattern: str
    handler: Handler
    transport: str
    owner: str = ""
    pinned: bool = False


def pattern_is_wildcard(pattern: str) -> bool:
    """Whether ``pattern`` is a wildcard (``"*"``, ``"patient.*"``…) rather than one name."""
    return any(char in pattern for char in "*?[")


def matches(pattern: str, event_type: str) -> bool:
    """Shell-style match: ``"*"`` is every event, ``"patient.*"`` every ``patient.`` event."""
    return pattern == event_type or (
        pattern_is_wildcard(pattern) and fnmatchcase(event_type, pattern)
    )


def default_handler_id(handler: Handler, taken: Iterable[str] = ()) -> str:
    """``module.qualname`` of ``handler``; a ``#n`` suffix keeps ad-hoc lambdas apart."""
    func: Any = getattr(handler, "__func__", handler)
    qualname = getattr(func, "__qualname__", type(handler).__name__)
    base = f"{getattr(func, '__module__', '?')}.{qualname}"
    used = set(taken)
    candidate, number = base, 1
    while candidate in used:
        number += 1
        candidate = f"{base}#{number}"
    return candidate
