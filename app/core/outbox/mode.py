"""``EVENTBUS_OUTBOX``: ``auto`` (the default), ``true`` or ``false``.

``auto`` turns the outbox on whenever some handler is routed to a remote transport
(``redis-streams``, ``rq``): then every event those handlers need is written in the service's
transaction and relayed, so Redis being down never fails a committed request nor loses its
event. With every handler in-process there is nothing to relay, and ``auto`` is off. The
decision is made once, at start, from the subscriptions the module loader wired.

``false`` with remote handlers is allowed, and logged at start as a warning naming the risk:
an event committed while Redis is unreachable, or in a process that dies between its commit
and the publish, never reaches those handlers, and the request answers 500 although its data
is committed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.core.events import EventBus
from app.core.events.bus import INPROCESS
from app.log import get_logger

__all__ = ["AUTO", "outbox_enabled", "remote_transports"]

AUTO = "auto"


def remote_transports(bus: EventBus) -> list[str]:
    """The transports other than in-process that some subscription is routed to."""
    return sorted({sub.transport for sub in bus.subscriptions() if sub.transport != INPROCESS})


def outbox_enabled(config: Mapping[str, Any], bus: EventBus) -> bool:
    """Whether the outbox is on for this app; warns when it is off with remote handlers.

    The value was checked at start (``app.config_checks``): ``auto``, true or false.
    """
    value = config["EVENTBUS_OUTBOX"]
    remote = remote_transports(bus)
    if value == AUTO:
        return bool(remote)
    if not value and remote:
        get_logger("eventbus.outbox").warning(
            "outbox.off_with_remote_handlers",
            transports=remote,
            risk=(
                "an event committed while Redis is unreachable, or by a process that dies "
                "between its commit and the publish, never reaches the remote handlers, and "
                "the request answers 500 although its data is committed"
            ),
            fix="EVENTBUS_OUTBOX=auto (the default) or true",
        )
    return bool(value)
