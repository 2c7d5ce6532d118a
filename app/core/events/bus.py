"""``EventBus``: the seed's subscribe / unsubscribe / publish / clear, transport-agnostic.

This file holds ``publish`` and its dispatch: the hot path, the checked path, the plan cache
and the flags that choose between them. The rest of the bus lives beside it: subscriptions
and settings in ``registry.py``, envelopes built elsewhere and the worker side in
``delivery.py`` (both mixed into ``EventBus``), plans and name checks in ``plans.py``, the
handler failure policy in ``failures.py``.

Thread safety: ``subscribe``, ``unsubscribe``, ``clear`` and ``configure`` take a lock and
replace the dispatch plans; ``publish`` reads them without locking and may run on any number
of threads at once.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from app.log import get_logger, logging_configured

from . import context
from .context import MINTED, forget_minted, new_envelope, register_dispatch_code
from .delivery import EnvelopeDelivery
from .envelope import Envelope
from .exceptions import ConfigurationError
from .failures import raise_together, report_failure
from .payload import check_payload
from .plans import (
    INPROCESS,
    Plan,
    Remote,
    build_plan,
    check_name,
    handler_count,
    same_callable,
)
from .registry import PayloadCheck, SubscriptionRegistry
from .routing import Router
from .signals import ALL_SIGNALS, event_published, handler_succeeded
from .subscriptions import Handler, Subscription, default_handler_id
from .transport import Transport
from .types import EventType

__all__ = ["INPROCESS", "EventBus"]

_PLAN_CACHE_LIMIT = 4096


class EventBus(SubscriptionRegistry, EnvelopeDelivery):
    """Routes each published event to its subscribed handlers through their transports.

    Failure semantics (DESIGN §4): ``publish`` validates first and raises an
    ``EventValidationError`` before anything is dispatched or written; it then hands the event
    to each remote transport (a ``TransportError`` propagates, and no in-process handler has
    run yet); then it runs the in-process handlers in subscription order. A handler that raises
    is logged with the event id, type, handler id and traceback, and the others still run;
    ``publish`` returns normally unless ``raise_handler_errors`` is set, in which case a
    :class:`HandlerError` carrying every error is raised after all handlers ran.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._subscriptions: list[Subscription] = []
        self._plans: dict[str, Plan] = {}
        self._registry: dict[str, Handler] = {}
        self._known: frozenset[str] = frozenset(EventType)
        self._router = Router(INPROCESS, {}, {INPROCESS})
        self._transports: dict[str, Transport] = {}
        self._schema_check: PayloadCheck | None = None
        self.strict = True
        self.validate = True
        self.max_payload_bytes = 65536
        self.raise_handler_errors = False
        self._log: Any = get_logger("eventbus")
        self._debug = False
        self._instrumented = False
        self._slow = True
        logging_configured.connect(self._on_logging_configured, weak=True)
        for signal in ALL_SIGNALS:
            signal.receiver_connected.connect(self._on_receivers_changed, weak=True)
            signal.receiver_disconnected.connect(self._on_receivers_changed, weak=True)

    def publish(self, event_type: str, data: dict[str, Any]) -> None:
        """Validate, then deliver ``data`` to every handler subscribed to ``event_type``.

        Raises ``EventValidationError`` subclasses for bad input (nothing dispatched),
        ``TransportError`` when a remote transport cannot take the event, and
        ``HandlerError`` only when ``raise_handler_errors`` is on.
        """
        try:
            local, remote = self._plans[event_type]
        except KeyError:
            local, remote = self._plan(event_type)
        if remote is not None:  # something to check, log, signal or send: see _plan
            self._publish_checked(event_type, data, local, remote)
            return
        # The hot path: in-process handlers only, nothing to check, log or signal. No envelope
        # exists; context.envelope_of_frame mints one from this frame if something asks.
        errors = None
        for handler in local:
            try:
                handler(data)
            except Exception as exc:
                errors = self._failed(event_type, handler, exc, errors, sys._getframe())
        if MINTED:
            forget_minted(sys._getframe())
        if errors:
            raise_together(event_type, errors)

    def _publish_checked(
        self,
        event_type: str,
        data: dict[str, Any],
        local: tuple[Handler, ...],
        remote: Remote,
    ) -> None:
        """``publish`` with validation, remote transports, debug logging and signals."""
        encoded = self._check_payload(event_type, data, bool(remote))
        if self._debug:
            self._log.debug(
                "event.published", event_type=str(event_type), handlers=handler_count(local, remote)
            )
        envelope: Envelope | None = None
        if remote:
            envelope = new_envelope(event_type, data, encoded, sys._getframe(2))
            for transport, subs in remote:
                transport.publish(envelope, subs)
        if self._instrumented:
            self._signal_published(event_type, data, handler_count(local, remote))
        self._run_local(event_type, data, envelope, local)

    def _run_local(
        self,
        event_type: str,
        data: dict[str, Any],
        envelope: Envelope | None,
        local: tuple[Handler, ...],
    ) -> None:
        """Run in-process handlers under the failure policy, with signals when connected."""
        errors = None
        for handler in local:
            started = time.perf_counter() if self._instrumented else 0.0
            try:
                handler(data)
            except Exception as exc:
                errors = self._failed(event_type, handler, exc, errors, sys._getframe())
            else:
                if self._instrumented:
                    self._signal_succeeded(event_type, handler, time.perf_counter() - started)
        if MINTED:
            forget_minted(sys._getframe())
        if errors:
            raise_together(event_type, errors)

    def _signal_published(self, event_type: str, data: dict[str, Any], count: int) -> None:
        if event_published.receivers:
            event_published.send(self, event_type=event_type, payload=data, handler_count=count)

    def _signal_succeeded(self, event_type: str, handler: Handler, duration_s: float) -> None:
        if handler_succeeded.receivers:
            handler_id = self._handler_id(event_type, handler)
            handler_succeeded.send(
                self, event_type=event_type, handler_id=handler_id, duration_s=duration_s
            )

    def validate_event(self, event_type: str, data: Any) -> None:
        """Make ``publish()``'s checks without publishing (``publish_after_commit`` calls it
        before the COMMIT). Raises the same ``EventValidationError`` subclasses."""
        check_name(event_type, self._known, self.strict)
        self._check_payload(event_type, data, self.has_remote_subscribers(event_type))

    def _check_payload(self, event_type: str, data: Any, remote: bool) -> str | None:
        """Encodability and size (always for remote events), then the declared shape."""
        encoded = check_payload(data, self.max_payload_bytes) if self.validate or remote else None
        if self._schema_check is not None and self.validate:
            self._schema_check(event_type, data)
        return encoded

    def _plan_for(self, event_type: str) -> Plan:
        try:
            return self._plans[event_type]
        except KeyError:
            return self._plan(event_type)

    # -- internals -----------------------------------------------------------------------------

    def _plan(self, event_type: str) -> Plan:
        check_name(event_type, self._known, self.strict)
        # Take the cache before reading subscriptions: if they change meanwhile, this plan
        # lands in the discarded cache, never in the new one.
        plans = self._plans
        plan = build_plan(self._subscriptions, event_type, self._transport, self._slow)
        if len(plans) < _PLAN_CACHE_LIMIT:
            plans[event_type] = plan
        return plan

    def _handler_id(self, event_type: str, handler: Handler) -> str:
        """The id of in-process ``handler`` in the plan of ``event_type`` (error path only)."""
        for sub in self.subscriptions_for(event_type):
            if sub.transport == INPROCESS and same_callable(sub.handler, handler):
                return sub.handler_id
        return default_handler_id(handler)

    def _transport(self, name: str) -> Transport:
        try:
            return self._transports[name]
        except KeyError:
            raise ConfigurationError(
                f"transport {name!r} is routed to but not configured"
            ) from None

    def _failed(
        self,
        event_type: str,
        handler: Handler,
        exc: Exception,
        errors: list[tuple[str, Exception]] | None,
        frame: Any,
    ) -> list[tuple[str, Exception]] | None:
        """Report a handler error (see ``failures``); return the errors to raise later."""
        handler_id = self._handler_id(event_type, handler)
        report_failure(self._log, self, context.envelope_of_frame(frame), handler_id, exc)
        if not self.raise_handler_errors:
            return errors
        return [*(errors or ()), (handler_id, exc)]

    def _changed(self) -> None:
        self._registry = {sub.handler_id: sub.handler for sub in self._subscriptions}
        self._plans = {}
        self._refresh_flags()

    def _refresh_flags(self) -> None:
        self._instrumented = any(signal.receivers for signal in ALL_SIGNALS)
        slow = self.validate or self._debug or self._instrumented
        if slow != self._slow:
            self._plans = {}  # plans record whether the hot path applies
        self._slow = slow

    def _on_logging_configured(self, sender: Any, **extra: Any) -> None:
        self._log = get_logger("eventbus")
        self._debug = extra.get("level", 20) <= 10
        self._refresh_flags()

    def _on_receivers_changed(self, signal: Any, **extra: Any) -> None:
        if signal in ALL_SIGNALS:
            self._refresh_flags()


register_dispatch_code(EventBus.publish.__code__)
register_dispatch_code(EventBus._run_local.__code__, publisher_depth=3)
