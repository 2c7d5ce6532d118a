"""The event map: which module publishes each event, and which handlers get it, where.

Producers come from the source of ``MODULES_PACKAGE`` (the same reading as
``flask events list`` and the catalog: publish calls found by ``app.architecture``);
handlers and their transports from the app's bus as wired now. The map is built once per
app (reading the source takes a few hundred milliseconds) and kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from app.core.events import EventType

__all__ = ["EventMap", "EventNode", "HandlerNode", "build_event_map"]


@dataclass(frozen=True)
class HandlerNode:
    """A handler of an event: its id, its module and the transport it is routed to."""

    handler_id: str
    module: str
    transport: str


@dataclass(frozen=True)
class EventNode:
    """One event type with its producers (module names) and its handlers."""

    event_type: str
    producers: tuple[str, ...]
    handlers: tuple[HandlerNode, ...]


@dataclass(frozen=True)
class EventMap:
    """Every event of ``EventType``, in declaration order, and every module mounted."""

    modules: tuple[str, ...]
    events: tuple[EventNode, ...]

    def transports(self) -> tuple[str, ...]:
        """The transports some handler is routed to."""
        return tuple(sorted({h.transport for e in self.events for h in e.handlers}))


def build_event_map(app: Flask) -> EventMap:
    """The map of ``app`` (see the module docstring)."""
    from app.architecture import analyse_app

    analysis = analyse_app(app)
    bus = app.extensions["eventbus"].bus
    modules_by_handler = {c.handler_id: c.module for c in analysis.inventory.consumers}
    events = []
    for member in EventType:
        name = str(member)
        producers = sorted(
            {analysis.module_name(site.component) for site in analysis.publishers_of(name)}
        )
        handlers = tuple(
            HandlerNode(
                sub.handler_id,
                modules_by_handler.get(sub.handler_id, sub.handler_id.split(".", 1)[0]),
                sub.transport,
            )
            for sub in bus.subscriptions_for(name)
        )
        events.append(EventNode(name, tuple(producers), handlers))
    modules = tuple(module.name for module in analysis.modules)
    return EventMap(modules, tuple(events))
