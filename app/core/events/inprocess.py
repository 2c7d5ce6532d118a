"""The in-process transport: handlers run now, on the publishing thread, in subscription order.

It is the default transport, the reference implementation of
:class:`~app.core.events.transport.Transport` that the contract suite runs, and the one the
bus runs its in-process handlers through: :meth:`EventBus.publish` calls :meth:`run` (or
:meth:`run_unobserved` when it knows nothing observes) with a
:data:`~app.core.events.context.Dispatch` (the envelope is built only if something asks);
callers that hold an envelope (the after-commit send, replays, the contract tests) use
:meth:`publish`.

Contract: the dispatch is the current one (:func:`current_event`) from just before the first
handler call until just after the last. Each call is reported to the instrumentation hook
(handled or failed, with its duration) while something observes it. A handler that raises
is reported under the failure policy (``failures``): logged with the event id, type, handler
id and traceback, and the other handlers still run; with ``raise_handler_errors`` a
:class:`HandlerError` carrying every error is raised once all ran. Guarantee: at most once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from operator import length_hint
from typing import Any

from app.log import get_logger

from .context import (
    EVENT_TYPE,
    PAYLOAD,
    Dispatch,
    dispatch_of,
    enter_dispatch,
    envelope_of,
    exit_dispatch,
)
from .envelope import Envelope
from .exceptions import TransportError
from .failures import raise_together, report_failure
from .instrumentation import HOOK
from .observed import call_observed
from .plans import INPROCESS, call_of
from .subscriptions import Handler, Subscription

__all__ = ["InProcessTransport"]

Errors = list[tuple[str, Exception]]
Calls = tuple[Handler, ...]


class InProcessTransport:
    """Calls handlers in this process under the bus's failure policy."""

    name = INPROCESS

    def __init__(self, raise_handler_errors: bool = False) -> None:
        self.raise_handler_errors = raise_handler_errors
        self.log_full_errors = False
        self.log: Any = get_logger("eventbus")
        self._closed = False

    def prepare(self, subscriptions: Sequence[Subscription]) -> None:
        """Nothing to prepare: handlers are called directly."""

    def publish(self, envelope: Envelope, subscriptions: Sequence[Subscription]) -> None:
        """Run the handlers of ``subscriptions`` now with ``envelope`` as the current event."""
        if self._closed:
            raise TransportError("the in-process transport is closed")
        calls = tuple(call_of(sub) for sub in subscriptions)
        self.run(dispatch_of(envelope), calls, tuple(sub.handler_id for sub in subscriptions))

    def run(self, dispatch: Dispatch, calls: Calls, handler_ids: tuple[str, ...]) -> None:
        """Call each of ``calls`` with the payload, ``dispatch`` being current; ``handler_ids``
        names them, at the same positions (for the hook and for failures)."""
        if HOOK.notify is None and HOOK.tracing is None:
            self.run_unobserved(dispatch, calls, handler_ids)
        else:
            self._run_observed(dispatch, calls, handler_ids)

    def run_unobserved(
        self, dispatch: Dispatch, calls: Calls, handler_ids: tuple[str, ...]
    ) -> None:
        """:meth:`run` without reporting to the hook: for a caller that knows nothing observes
        (``EventBus.publish`` when no hook, tracer or debug log is on)."""
        payload = dispatch[PAYLOAD]
        errors: Errors | None = None
        pending = iter(calls)
        token = enter_dispatch(dispatch)
        try:
            for call in pending:
                try:
                    call(payload)
                except Exception as exc:
                    handler_id = handler_ids[_position(calls, pending)]
                    errors = self._failed(dispatch, handler_id, exc, errors)
        finally:
            exit_dispatch(token)
        if errors:
            raise_together(dispatch[EVENT_TYPE], errors)

    def close(self) -> None:
        """Refuse later :meth:`publish` calls (``TransportError``); safe to call twice."""
        self._closed = True

    def _run_observed(self, dispatch: Dispatch, calls: Calls, handler_ids: tuple[str, ...]) -> None:
        """:meth:`run` with every call reported to the hook (and traced)."""
        errors: Errors | None = None
        token = enter_dispatch(dispatch)
        try:
            for handler_id, call in zip(handler_ids, calls, strict=True):
                try:
                    call_observed(
                        partial(call, dispatch[PAYLOAD]),
                        event_type=dispatch[EVENT_TYPE],
                        handler_id=handler_id,
                        transport=INPROCESS,
                        envelope=partial(envelope_of, dispatch),
                    )
                except Exception as exc:
                    errors = self._failed(dispatch, handler_id, exc, errors)
        finally:
            exit_dispatch(token)
        if errors:
            raise_together(dispatch[EVENT_TYPE], errors)

    def _failed(
        self, dispatch: Dispatch, handler_id: str, exc: Exception, errors: Errors | None
    ) -> Errors | None:
        """Report the error; return the errors to raise at the end (``raise_handler_errors``)."""
        report_failure(self.log, envelope_of(dispatch), handler_id, exc, full=self.log_full_errors)
        if not self.raise_handler_errors:
            return errors
        return [*(errors or ()), (handler_id, exc)]


def _position(calls: Calls, pending: Iterator[Handler]) -> int:
    """The position in ``calls`` of the call last taken from ``pending``, an iterator over
    ``calls``: those not yet taken are ``length_hint(pending)`` (exact for a tuple)."""
    return len(calls) - 1 - length_hint(pending)
