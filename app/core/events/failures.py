"""What happens when an in-process handler raises, in one place.

The in-process transport applies this policy to every handler it runs: the error is logged
with the event id, type, handler id, correlation id and stack, redacted (``redaction``: never
a payload value or SQL detail, unless ``EVENTBUS_LOG_FULL_ERRORS``), it is
reported to the instrumentation hook (``handler_failed`` and the metrics see it there), and
the other handlers still run. With ``raise_handler_errors`` (tests), a :class:`HandlerError`
carrying every error is raised once all handlers ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

from .envelope import Envelope
from .exceptions import HandlerError
from .redaction import log_fields

__all__ = ["raise_together", "report_failure"]


def report_failure(
    log: Any, envelope: Envelope, handler_id: str, exc: Exception, *, full: bool = False
) -> None:
    """Log ``exc`` raised by handler ``handler_id`` for ``envelope``. The payload is never
    logged; the error is redacted (``redaction.log_fields``) unless ``full``."""
    log.error(
        "handler.failed",
        event_id=envelope.id,
        event_type=envelope.type,
        handler_id=handler_id,
        correlation_id=envelope.correlation_id,
        **log_fields(exc, envelope.payload, full=full),
    )


def raise_together(event_type: str, errors: Sequence[tuple[str, Exception]]) -> NoReturn:
    """Raise one :class:`HandlerError` for every ``(handler_id, error)`` of one event."""
    ids = [handler_id for handler_id, _ in errors]
    raise HandlerError(
        f"{len(errors)} handler(s) failed for {event_type}: {', '.join(ids)}",
        [exc for _, exc in errors],
        ids,
    )
