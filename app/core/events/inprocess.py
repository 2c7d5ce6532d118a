"""The in-process transport: handlers run now, on the publishing thread, in subscription order.

It is the default transport, the reference implementation of
:class:`~app.core.events.transport.Transport` that the contract suite runs, and the one the
bus runs its in-process handlers through: :meth:`EventBus.publish` calls :meth:`run` with a
:class:`~app.core.events.context.Dispatch` (the envelope is built only if something asks);
callers that hold an envelope (replays, the outbox's after-commit send, the contract tests)
use :meth:`publish`.

Contract: the dispatch is the current one (:func:`current_event`) from just before the first
handler call until just after the last. A handler that raises is reported under the failure
policy (``failures``): logged with the event id, type, handler id and traceback, signalled,
and the other handlers still run; with ``raise_handler_errors`` a :class:`HandlerError`
carrying every error is raised once all ran. Guarantee: at most once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from app.log import get_logger

from .context import Dispatch
from .envelope import Envelope
from .exceptions import TransportError
from .failures import raise_together, report_failure
from .plans import INPROCESS, LocalCall, call_of
from .signals import handler_succeeded
from .subscriptions import Subscription

__all__ = ["InProcessTransport"]

Errors = list[tuple[str, Exception]]


class InProcessTransport:
    """Calls handlers in this process under the bus's failure policy."""

    name = INPROCESS

    def __init__(self, raise_handler_errors: bool = False, sender: object = None) -> None:
        self.raise_handler_errors = raise_handler_errors
        self.sender = self if sender is None else sender
        """The sender of the signals (the bus that owns this transport)."""
        self.instrumented = False
        """Time each handler and send ``handler_succeeded`` (set while a receiver listens)."""
        self.log: Any = get_logger("eventbus")
        self._closed = False

    def prepare(self, subscriptions: Sequence[Subscription]) -> None:
        """Nothing to prepare: handlers are called directly."""

    def publish(self, envelope: Envelope, subscriptions: Sequence[Subscription]) -> None:
        """Run the handlers of ``subscriptions`` now with ``envelope`` as the current event."""
        if self._closed:
            raise TransportError("the in-process transport is closed")
        calls = tuple((sub.handler_id, call_of(sub)) for sub in subscriptions)
        self.run(Dispatch.of(envelope), calls)

    def run(self, dispatch: Dispatch, calls: tuple[LocalCall, ...]) -> None:
        """Call each ``(handler id, call)`` with the payload, ``dispatch`` being current."""
        payload = dispatch.payload
        errors: Errors | None = None
        token = dispatch.enter()
        try:
            if self.instrumented:
                errors = self._run_timed(dispatch, calls)
            else:
                for handler_id, call in calls:
                    try:
                        call(payload)
                    except Exception as exc:
                        errors = self._failed(dispatch, handler_id, exc, errors)
        finally:
            dispatch.exit(token)
        if errors:
            raise_together(dispatch.event_type, errors)

    def close(self) -> None:
        """Refuse later :meth:`publish` calls (``TransportError``); safe to call twice."""
        self._closed = True

    def _run_timed(self, dispatch: Dispatch, calls: tuple[LocalCall, ...]) -> Errors | None:
        errors: Errors | None = None
        for handler_id, call in calls:
            started = time.perf_counter()
            try:
                call(dispatch.payload)
            except Exception as exc:
                errors = self._failed(dispatch, handler_id, exc, errors)
            else:
                if handler_succeeded.receivers:
                    handler_succeeded.send(
                        self.sender,
                        event_type=dispatch.event_type,
                        handler_id=handler_id,
                        duration_s=time.perf_counter() - started,
                    )
        return errors

    def _failed(
        self, dispatch: Dispatch, handler_id: str, exc: Exception, errors: Errors | None
    ) -> Errors | None:
        """Report the error; return the errors to raise at the end (``raise_handler_errors``)."""
        report_failure(self.log, self.sender, dispatch.envelope, handler_id, exc)
        if not self.raise_handler_errors:
            return errors
        return [*(errors or ()), (handler_id, exc)]
