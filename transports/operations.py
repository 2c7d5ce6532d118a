"""Operator hooks: how ``flask events stats`` and ``flask events dlq`` find every transport.

A transport module (named in ``transports.TRANSPORT_MODULES``) MAY define either or both of:

``dead_letter_store(config) -> DeadLetterStore``
    Its dead letters (``app.core.events.dead_letters.DeadLetterStore``): the Redis Streams
    dead-letter stream, RQ's failed-job registry for bus jobs. ``config`` is ``app.config``.

``stats(config, subscriptions) -> TransportStats``
    Per-handler figures for ``subscriptions`` (the ones routed to that transport).

The commands call :func:`dead_letter_stores` and :func:`transport_stats`, which import only
the modules of the transports the app has configured (so a base install never imports a
broker library) and skip those without the hook. This module is broker-free; broker code
stays in each transport's own files.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from app.core.events.dead_letters import DeadLetterStore
from app.core.events.subscriptions import Subscription

from . import TRANSPORT_MODULES

__all__ = [
    "HandlerStats",
    "TransportStats",
    "dead_letter_stores",
    "transport_stats",
]


@dataclass(frozen=True)
class HandlerStats:
    """One handler's backlog on one transport. ``None`` means the broker cannot tell."""

    handler_id: str
    pending: int
    lag: int | None
    oldest_pending_age_s: float | None
    consumers: tuple[str, ...]
    dead_letters: int


@dataclass(frozen=True)
class TransportStats:
    """What one transport reports: per handler, dead letters in total, and notes (warnings)."""

    transport: str
    handlers: tuple[HandlerStats, ...]
    dead_letters: int
    notes: tuple[str, ...] = field(default=())


def _modules(names: Iterable[str]) -> list[tuple[str, ModuleType]]:
    found = []
    for name in sorted(set(names)):
        module_name = TRANSPORT_MODULES.get(name)
        if module_name is not None:
            found.append((name, importlib.import_module(module_name)))
    return found


def dead_letter_stores(config: Mapping[str, Any], names: Iterable[str]) -> list[DeadLetterStore]:
    """The dead-letter store of each transport in ``names`` that offers one."""
    return [
        module.dead_letter_store(config)
        for _, module in _modules(names)
        if hasattr(module, "dead_letter_store")
    ]


def transport_stats(
    config: Mapping[str, Any], subscriptions: Sequence[Subscription], names: Iterable[str]
) -> list[TransportStats]:
    """Stats of each transport in ``names`` that offers them, for its own subscriptions."""
    return [
        module.stats(config, [sub for sub in subscriptions if sub.transport == name])
        for name, module in _modules(names)
        if hasattr(module, "stats")
    ]
