"""``EventBus``: the seed's subscribe / unsubscribe / publish / clear, transport-agnostic.

Thread safety: ``subscribe``, ``unsubscribe``, ``clear`` and ``configure`` take a lock and
replace the dispatch plans; ``publish`` reads them without locking and may run on any number
of threads at once.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from app.log import get_logger, logging_configured

from . import context
from .context import MINTED, forget_minted, new_envelope, register_dispatch_code
from .envelope import Envelope
from .exceptions import (
    ConfigurationError,
    DuplicateHandlerError,
    UnknownEventError,
    UnknownHandlerError,
)
from .failures import raise_together, report_failure
from .payload import check_payload
from .plans import (
    INPROCESS,
    Plan,
    Remote,
    build_plan,
    check_name,
    check_pattern,
    handler_count,
    same_callable,
    subscriptions_for,
)
from .routing import Router
from .signals import ALL_SIGNALS, event_published, handler_succeeded
from .subscriptions import Handler, Subscription, default_handler_id
from .transport import Transport
from .types import EventType

__all__ = ["INPROCESS", "EventBus"]

_PLAN_CACHE_LIMIT = 4096
PayloadCheck = Callable[[str, dict[str, Any]], None]


class _Unset:
    """The type of :data:`UNSET`: "argument not given" where ``None`` means something."""


UNSET = _Unset()


class EventBus:
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

    # -- configuration -------------------------------------------------------------------------

    def configure(
        self,
        *,
        router: Router | None = None,
        transports: Mapping[str, Transport] | None = None,
        strict: bool | None = None,
        validate: bool | None = None,
        max_payload_bytes: int | None = None,
        raise_handler_errors: bool | None = None,
        known_events: Iterable[str] | None = None,
        schema_check: PayloadCheck | _Unset | None = UNSET,
    ) -> None:
        """Apply settings (``None`` leaves one unchanged; ``schema_check=None`` removes the
        check) and re-route every subscription.

        ``transports`` maps names to ready transports; ``"inprocess"`` needs no entry.
        Subscriptions made with an explicit transport keep it; the others follow ``router``.
        """
        with self._lock:
            if router is not None:
                self._router = router
            if transports is not None:
                self._transports = dict(transports)
            if strict is not None:
                self.strict = strict
            if validate is not None:
                self.validate = validate
            if max_payload_bytes is not None:
                self.max_payload_bytes = max_payload_bytes
            if raise_handler_errors is not None:
                self.raise_handler_errors = raise_handler_errors
            if known_events is not None:
                self._known = frozenset(str(name) for name in known_events)
            if not isinstance(schema_check, _Unset):
                self._schema_check = schema_check
            self._subscriptions = [self._routed(sub) for sub in self._subscriptions]
            self._changed()

    @property
    def router(self) -> Router:
        """The router in force."""
        return self._router

    @property
    def transports(self) -> Mapping[str, Transport]:
        """The configured remote transports by name."""
        return dict(self._transports)

    @property
    def known_events(self) -> frozenset[str]:
        """The event names ``publish`` and ``subscribe`` accept in strict mode."""
        return self._known

    # -- the seed API --------------------------------------------------------------------------

    def subscribe(
        self,
        event_type: str,
        handler: Handler,
        *,
        handler_id: str | None = None,
        transport: str | None = None,
        owner: str = "",
    ) -> str:
        """Call ``handler(payload)`` for every event matching ``event_type``; return its id.

        ``event_type`` is a name or a wildcard (``"patient.*"``, ``"*"``); in strict mode it
        must name, or match, a member of ``EventType``. ``handler_id`` defaults to the
        handler's ``module.qualname``; one id always names one callable. ``transport``
        overrides the router. A handler subscribed through several matching patterns still
        runs once per event.
        """
        check_pattern(event_type, self._known, self.strict)
        with self._lock:
            existing = {sub.handler_id: sub for sub in self._subscriptions}
            if handler_id is None:
                same = [s for s in existing.values() if same_callable(s.handler, handler)]
                handler_id = same[0].handler_id if same else default_handler_id(handler, existing)
            elif handler_id in existing and not same_callable(
                existing[handler_id].handler, handler
            ):
                raise DuplicateHandlerError(
                    f"handler id {handler_id!r} already names {existing[handler_id].handler!r}"
                )
            name = transport or self._router.transport_for(handler_id)
            if name != INPROCESS and name not in self._transports:
                raise ConfigurationError(
                    f"transport {name!r} for {handler_id!r} is not configured; "
                    f"configured: {', '.join(sorted({INPROCESS, *self._transports}))}"
                )
            sub = Subscription(
                handler_id, str(event_type), handler, name, owner, pinned=transport is not None
            )
            if sub not in self._subscriptions:
                self._subscriptions = [*self._subscriptions, sub]
                self._changed()
        return handler_id

    def unsubscribe(self, event_type: str, handler: Handler) -> None:
        """Stop calling ``handler`` for ``event_type``; a no-op if it was not subscribed."""
        with self._lock:
            kept = [
                sub
                for sub in self._subscriptions
                if not (sub.pattern == event_type and same_callable(sub.handler, handler))
            ]
            if len(kept) != len(self._subscriptions):
                self._subscriptions = kept
                self._changed()

    def remove_owned(self, owner: str) -> None:
        """Remove the subscriptions made with ``owner`` (the loader's, before re-wiring)."""
        with self._lock:
            self._subscriptions = [sub for sub in self._subscriptions if sub.owner != owner]
            self._changed()

    def restore(self, subscriptions: Iterable[Subscription]) -> None:
        """Replace every subscription with ``subscriptions`` (test fixtures' save/restore)."""
        with self._lock:
            self._subscriptions = list(subscriptions)
            self._changed()

    def clear(self) -> None:
        """Remove every subscription (the seed's test-fixture reset)."""
        with self._lock:
            self._subscriptions = []
            self._changed()

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

    # -- envelopes built elsewhere (outbox, replay) ---------------------------------------------

    def publish_envelope(
        self, envelope: Envelope, *, local: bool = True, remote: bool = True
    ) -> None:
        """Deliver an envelope that was built and validated earlier, keeping its id.

        ``remote`` hands it to every remote transport its type is routed to (raising
        ``TransportError`` like ``publish``); ``local`` then runs the in-process handlers
        under the usual failure policy. The outbox publishes ``remote=False`` at commit and
        lets its relay send ``local=False`` later.
        """
        local_handlers, remote_deliveries = self._plan_for(envelope.type)
        if remote:
            for transport, subs in remote_deliveries or ():
                transport.publish(envelope, subs)
        if local and local_handlers:
            self._run_local(envelope.type, envelope.payload, envelope, local_handlers)

    def send_remote_batch(self, envelopes: Sequence[Envelope]) -> None:
        """Hand many envelopes to their remote transports, batched per transport.

        A transport with a ``publish_batch(items)`` method gets each of its items in one
        call (one round trip); others get one ``publish`` per item. Raises
        ``TransportError`` if any batch fails: then some items may have been sent.
        """
        batches: dict[int, tuple[Transport, list[tuple[Envelope, tuple[Subscription, ...]]]]] = {}
        for envelope in envelopes:
            for transport, subs in self._plan_for(envelope.type)[1] or ():
                batches.setdefault(id(transport), (transport, []))[1].append((envelope, subs))
        for transport, items in batches.values():
            publish_batch = getattr(transport, "publish_batch", None)
            if publish_batch is not None:
                publish_batch(items)
            else:
                for envelope, subs in items:
                    transport.publish(envelope, subs)

    def has_remote_subscribers(self, event_type: str) -> bool:
        """Whether any handler of ``event_type`` runs outside this process."""
        return bool(self._plan_for(event_type)[1])

    def _plan_for(self, event_type: str) -> Plan:
        try:
            return self._plans[event_type]
        except KeyError:
            return self._plan(event_type)

    # -- worker side ---------------------------------------------------------------------------

    def handler(self, handler_id: str) -> Handler:
        """The handler registered under ``handler_id``; :class:`UnknownHandlerError` if none."""
        try:
            return self._registry[handler_id]
        except KeyError:
            raise UnknownHandlerError(
                f"no handler {handler_id!r} is registered in this process"
            ) from None

    def deliver(self, handler_id: str, envelope: Envelope) -> None:
        """Run one handler for one envelope taken from a transport (worker side).

        Raises :class:`UnknownHandlerError`, :class:`UnknownEventError` (strict mode) or
        whatever the handler raises: the caller retries or dead-letters. The handler runs
        with the envelope as the current event and its correlation id bound in the logs.
        """
        handler = self.handler(handler_id)
        if self.strict and envelope.type not in self._known:
            raise UnknownEventError(f"{envelope.type!r} is not a member of EventType")
        tokens = context.enter_delivery(envelope)
        try:
            handler(envelope.payload)
        finally:
            context.exit_delivery(tokens)

    def subscriptions(self) -> tuple[Subscription, ...]:
        """Every subscription, in subscription order."""
        return tuple(self._subscriptions)

    def subscriptions_for(self, event_type: str) -> tuple[Subscription, ...]:
        """The subscriptions an event named ``event_type`` reaches, one per handler id."""
        return subscriptions_for(self._subscriptions, event_type)

    # -- internals -----------------------------------------------------------------------------

    def _routed(self, sub: Subscription) -> Subscription:
        if sub.pinned:
            return sub
        return replace(sub, transport=self._router.transport_for(sub.handler_id))

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
