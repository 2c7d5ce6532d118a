"""The in-process transport: handlers run inside ``publish()``, on the publishing thread.

It is the reference implementation of :class:`~app.core.events.Transport` and the default.
The bus runs in-process handlers itself on its hot path (no envelope is built unless one is
needed); this class gives the same behaviour to callers that hold an envelope, such as a
dead-letter replay or the contract tests. Guarantee: at most once, in subscription order; a
handler error is handled by the bus's own policy (``app.core.events.failures``): logged,
signalled, and it does not stop the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.core.events.context import delivering
from app.core.events.envelope import Envelope
from app.core.events.exceptions import TransportError
from app.core.events.failures import raise_together, report_failure
from app.core.events.subscriptions import Subscription
from app.log import get_logger

__all__ = ["InProcessTransport", "from_config"]


class InProcessTransport:
    """Calls each subscription's handler now, with ``envelope`` as the current event."""

    name = "inprocess"

    def __init__(self, raise_handler_errors: bool = False) -> None:
        self.raise_handler_errors = raise_handler_errors
        self._closed = False
        self._log: Any = get_logger("eventbus.inprocess")

    def prepare(self, subscriptions: Sequence[Subscription]) -> None:
        """Nothing to prepare: handlers are called directly."""

    def publish(self, envelope: Envelope, subscriptions: Sequence[Subscription]) -> None:
        """Run every handler now; errors are logged (or raised together, see the bus)."""
        if self._closed:
            raise TransportError("the in-process transport is closed")
        errors: list[tuple[str, Exception]] = []
        with delivering(envelope):
            for sub in subscriptions:
                try:
                    sub.handler(envelope.payload)
                except Exception as exc:
                    report_failure(self._log, self, envelope, sub.handler_id, exc)
                    errors.append((sub.handler_id, exc))
        if errors and self.raise_handler_errors:
            raise_together(envelope.type, errors)

    def close(self) -> None:
        """Mark closed; later publishes raise ``TransportError``."""
        self._closed = True


def from_config(config: Mapping[str, Any]) -> InProcessTransport:
    """Build from app config (``EVENTBUS_RAISE_HANDLER_ERRORS``)."""
    return InProcessTransport(bool(config.get("EVENTBUS_RAISE_HANDLER_ERRORS", False)))
