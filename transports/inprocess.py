"""The in-process transport (the default): handlers run inside ``publish()``, on its thread.

The transport itself lives with the bus, which runs its in-process handlers through it
(:mod:`app.core.events.inprocess`); this module is its entry in the transport registry
(``transports.TRANSPORT_MODULES``). Guarantee: at most once, in subscription order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.core.events.inprocess import InProcessTransport

__all__ = ["InProcessTransport", "from_config"]


def from_config(config: Mapping[str, Any]) -> InProcessTransport:
    """Build from app config (``EVENTBUS_RAISE_HANDLER_ERRORS``)."""
    return InProcessTransport(bool(config.get("EVENTBUS_RAISE_HANDLER_ERRORS", False)))
