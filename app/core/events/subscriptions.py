"""Subscriptions: which handler (by id) receives which event names, through which transport."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .envelope import Envelope

__all__ = [
    "AnyHandler",
    "EnvelopeHandler",
    "Handler",
    "Subscription",
    "default_handler_id",
    "matches",
    "pattern_is_wildcard",
    "takes_envelope",
]

Handler = Callable[[dict[str, Any]], None]
"""A handler receives the payload dict; its return value is ignored."""

EnvelopeHandler = Callable[[dict[str, Any], "Envelope"], None]
"""A handler declared with a second parameter receives the event's ``Envelope`` there too."""

AnyHandler = Handler | EnvelopeHandler
"""What ``subscribe`` accepts: see :func:`takes_envelope` for how the two are told apart."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """``handler`` receives events whose name matches ``pattern``, run by ``transport``.

    ``handler_id`` is the stable name workers look the handler up by (``<module>.<function>``
    for module handlers). ``owner`` is ``"loader"`` for subscriptions the module loader made.
    ``pinned`` subscriptions keep their transport when the router changes.
    ``receives_envelope`` (decided once, by :func:`takes_envelope`, when subscribing): the
    handler is called ``handler(payload, envelope)`` instead of ``handler(payload)``.
    """

    handler_id: str
    pattern: str
    handler: AnyHandler
    transport: str
    owner: str = ""
    pinned: bool = False
    receives_envelope: bool = False


def pattern_is_wildcard(pattern: str) -> bool:
    """Whether ``pattern`` is a wildcard (``"*"``, ``"patient.*"``…) rather than one name."""
    return any(char in pattern for char in "*?[")


def matches(pattern: str, event_type: str) -> bool:
    """Shell-style match: ``"*"`` is every event, ``"patient.*"`` every ``patient.`` event."""
    return pattern == event_type or (
        pattern_is_wildcard(pattern) and fnmatchcase(event_type, pattern)
    )


def takes_envelope(handler: AnyHandler) -> bool:
    """Whether ``handler`` is declared with a second positional parameter without a default
    (``def on_x(data, event)``): then it receives the envelope as well as the payload.

    A callable whose signature cannot be read (some builtins) takes the payload only.
    """
    try:
        parameters = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    return len(positional) >= 2 and positional[1].default is inspect.Parameter.empty


def default_handler_id(handler: AnyHandler, taken: Iterable[str] = ()) -> str:
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
