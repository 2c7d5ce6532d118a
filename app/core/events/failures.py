"""What happens when an in-process handler raises (DESIGN §4), in one place.

The bus (its own dispatch loop) and the in-process transport (for callers holding an
envelope) apply the same policy: the error is logged with the event id, type, handler id,
correlation id and traceback, ``handler_failed`` is sent when something listens, and the
other handlers still run. With ``raise_handler_errors`` (tests), a :class:`HandlerError`
carrying every error is raised once all handlers ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

from .envelope import Envelope
from .exceptions import HandlerError
from .signals import handler_failed

__all__ = ["raise_together", "report_failure"]


def report_failure(
    log: Any, sender: object, envelope: Envelope, handler_id: str, exc: Exception
) -> None:
    """Log ``exc`` raised by handler ``handler_id`` for ``envelope``; signal it if connected.
    The payload is never logged."""
    log.error(
        "handler.failed",
        event_id=envelope.id,
        event_type=envelope.type,
        handler_id=handler_id,
        correlation_id=envelope.correlation_id,
        exc_info=exc,
    )
    if handler_failed.receivers:
        handler_failed.send(
            sender,
            event_type=envelope.type,
            handler_id=handler_id,
            event_id=envelope.id,
            error=exc,
        )


def raise_together(event_type: str, errors: Sequence[tuple[str, Exception]]) -> NoReturn:
    """Raise one :class:`HandlerError` for every ``(handler_id, error)`` of one event."""
    ids = [handler_id for handler_id, _ in errors]
    raise HandlerError(
        f"{len(errors)} handler(s) failed for {event_type}: {', '.join(ids)}",
        [exc for _, exc in errors],
        ids,
    )
