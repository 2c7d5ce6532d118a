"""``EventBus``: subscribe / unsubscribe / publish / clear, transport-agnostic.

The bus is small and owns three parts, each usable alone:

- a :class:`~app.core.events.registry.SubscriptionRegistry` (subscriptions, routing, known
  names) that hands out immutable dispatch plans, one per event name;
- a :class:`~app.core.events.validation.PayloadValidator` (what ``publish`` checks);
- an :class:`~app.core.events.inprocess.InProcessTransport` that runs the in-process handlers.

``publish(name, payload)`` takes the plan of ``name``; with nothing to check, send or signal
(validation off, in-process handlers only) it hands the payload straight to the in-process
transport, and otherwise takes :meth:`_publish_checked`. The longest chain from ``publish``
to a handler is ``publish → _publish_checked → InProcessTransport.run → handler``.

Thread safety: ``subscribe``, ``unsubscribe``, ``clear`` and ``configure`` take the
registry's lock and replace the plans; ``publish`` reads them without locking and may run on
any number of threads at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.log import get_logger, logging_configured

from .context import (
    current_dispatch,
    dispatch_of,
    enter_delivery,
    envelope_of,
    exit_delivery,
    new_envelope,
    producer_of_frame,
    publisher_frame,
)
from .envelope import Envelope
from .exceptions import UnknownEventError
from .inprocess import InProcessTransport
from .instrumentation import HOOK, Tracing
from .observed import observe_published, with_trace_context
from .plans import INPROCESS
from .registry import SubscriptionRegistry
from .routing import Router
from .subscriptions import AnyHandler, Handler, Subscription
from .transport import Transport
from .validation import PayloadCheck, PayloadValidator

__all__ = ["INPROCESS", "EventBus"]


class _Unset:
    """The type of :data:`_UNSET`: "argument not given" where ``None`` means something."""


_UNSET = _Unset()


class EventBus:
    """Routes each published event to its subscribed handlers through their transports.

    Failure semantics: ``publish`` validates first and raises an ``EventValidationError``
    before anything is dispatched or written; it then hands the event to each remote
    transport (a ``TransportError`` propagates, and no in-process handler has run yet); then
    it runs the in-process handlers in subscription order. A handler that raises is logged
    with the event id, type, handler id and traceback, and the others still run; ``publish``
    returns normally unless ``raise_handler_errors`` is set, in which case a
    :class:`HandlerError` carrying every error is raised after all handlers ran.
    """

    def __init__(self) -> None:
        self.registry = SubscriptionRegistry()
        self.validator = PayloadValidator()
        self.inprocess = InProcessTransport()
        self._log: Any = get_logger("eventbus")
        self._debug = False
        self._checked = True  # validation, debug logging or an observer on: _refresh_flags
        logging_configured.connect(self._on_logging_configured, weak=True)
        HOOK.on_change(self._refresh_flags)

    # -- publishing ------------------------------------------------------------------------------

    def publish(self, event_type: str, data: dict[str, Any]) -> None:
        """Validate, then deliver ``data`` to every handler subscribed to ``event_type``.

        Raises ``EventValidationError`` subclasses for bad input (nothing dispatched),
        ``TransportError`` when a remote transport cannot take the event, and
        ``HandlerError`` only when ``raise_handler_errors`` is on. The envelope's producer is
        the module of the code calling ``publish`` (its frame is kept, as ``logging`` does
        for ``stacklevel``, and read only if the envelope is built).
        """
        plan = self.registry.plans.get(event_type) or self.registry.plan(event_type)
        caller = publisher_frame(1)
        if plan.remote or self._checked:
            self._publish_checked(event_type, data, plan.local, plan.remote, caller)
        elif plan.local:
            self.inprocess.run([event_type, data, caller, current_dispatch(), None], plan.local)

    def _publish_checked(
        self,
        event_type: str,
        data: dict[str, Any],
        local: tuple[tuple[str, Handler], ...],
        remote: tuple[tuple[Transport, tuple[Subscription, ...]], ...],
        caller: Any,
    ) -> None:
        """``publish`` with validation, remote transports, debug logging and observers; in a
        producer span when tracing."""
        encoded = self.validator.check(event_type, data, bool(remote))
        if self._debug:
            count = len(local) + sum(len(subs) for _, subs in remote)
            self._log.debug("event.published", event_type=str(event_type), handlers=count)
        tracing = HOOK.tracing
        if tracing is None:
            self._dispatch(event_type, data, local, remote, caller, encoded=encoded, trace=None)
            return
        with tracing.publishing(event_type) as span:
            trace = (tracing, span)
            self._dispatch(event_type, data, local, remote, caller, encoded=encoded, trace=trace)

    def _dispatch(
        self,
        event_type: str,
        data: dict[str, Any],
        local: tuple[tuple[str, Handler], ...],
        remote: tuple[tuple[Transport, tuple[Subscription, ...]], ...],
        caller: Any,
        *,
        encoded: str | None,
        trace: tuple[Tracing, Any] | None,
    ) -> None:
        """Hand a checked event to its remote transports, then run its in-process handlers.
        ``trace``: the tracer and the producer span the envelope's trace context comes from."""
        parent = current_dispatch()
        if remote:
            envelope = new_envelope(event_type, data, producer_of_frame(caller), parent, encoded)
            if trace is not None:
                envelope = with_trace_context(envelope, *trace)
            for transport, subs in remote:
                transport.publish(envelope, subs)
                observe_published(envelope, transport.name, len(subs))
            dispatch = dispatch_of(envelope)
        else:
            dispatch = [event_type, data, caller, parent, None]
        if HOOK.notify is not None and (local or not remote):
            observe_published(envelope_of(dispatch), INPROCESS if local else "none", len(local))
        if local:
            self.inprocess.run(dispatch, local)

    def prepare(self, event_type: str, data: dict[str, Any], *, producer: str) -> Envelope:
        """Check an event as ``publish`` would and build its envelope, without sending it.

        For events sent later (``publish_after_commit``): the envelope then goes out through
        :meth:`publish_envelope` (and the outbox relay) without being checked again. Raises
        the same ``EventValidationError`` subclasses as ``publish``.
        """
        plan = self.registry.plan(event_type)
        encoded = self.validator.check(event_type, data, bool(plan.remote))
        return new_envelope(event_type, data, producer, current_dispatch(), encoded)

    def publish_envelope(
        self, envelope: Envelope, *, local: bool = True, remote: bool = True
    ) -> None:
        """Deliver an envelope that was built and checked earlier, keeping its id.

        ``remote`` hands it to every remote transport its type is routed to (raising
        ``TransportError`` like ``publish``); ``local`` then runs the in-process handlers
        under the usual failure policy. Nothing is checked again. ``remote=False`` means the
        caller keeps the remote part (the outbox): observers hear ``outbox`` as its transport.
        """
        tracing = HOOK.tracing
        if tracing is None:
            self._deliver_envelope(envelope, local, remote)
            return
        with tracing.publishing(envelope.type) as span:
            self._deliver_envelope(with_trace_context(envelope, tracing, span), local, remote)

    def _deliver_envelope(self, envelope: Envelope, local: bool, remote: bool) -> None:
        plan = self.registry.plan(envelope.type)
        if remote:
            for transport, subs in plan.remote:
                transport.publish(envelope, subs)
                observe_published(envelope, transport.name, len(subs))
        elif plan.remote:
            observe_published(envelope, "outbox", sum(len(subs) for _, subs in plan.remote))
        if HOOK.notify is not None and (plan.local or not plan.remote):
            observe_published(envelope, INPROCESS if plan.local else "none", len(plan.local))
        if local and plan.local:
            self.inprocess.run(dispatch_of(envelope), plan.local)

    def send_remote_batch(self, envelopes: Sequence[Envelope]) -> None:
        """Hand many prepared envelopes to their remote transports, batched per transport.

        A transport with a ``publish_batch(items)`` method gets each of its items in one
        call (one round trip); others get one ``publish`` per item. Raises
        ``TransportError`` if any batch fails: then some items may have been sent.
        """
        batches: dict[int, tuple[Transport, list[tuple[Envelope, tuple[Subscription, ...]]]]] = {}
        for envelope in envelopes:
            for transport, subs in self.registry.plan(envelope.type).remote:
                batches.setdefault(id(transport), (transport, []))[1].append((envelope, subs))
        for transport, items in batches.values():
            publish_batch = getattr(transport, "publish_batch", None)
            if publish_batch is not None:
                publish_batch(items)
            else:
                for envelope, subs in items:
                    transport.publish(envelope, subs)
            if HOOK.notify is not None:
                for envelope, subs in items:
                    observe_published(envelope, transport.name, len(subs))

    def validate_event(self, event_type: str, data: Any) -> None:
        """Make ``publish()``'s checks without publishing. Raises the same errors."""
        self.validator.check(event_type, data, bool(self.registry.plan(event_type).remote))

    def has_remote_subscribers(self, event_type: str) -> bool:
        """Whether any handler of ``event_type`` runs outside this process."""
        return bool(self.registry.plan(event_type).remote)

    # -- worker side -----------------------------------------------------------------------------

    def handler(self, handler_id: str) -> Handler:
        """How to call the handler registered under ``handler_id`` with a payload (one that
        receives the envelope gets the current event's); :class:`UnknownHandlerError` if none."""
        return self.registry.call(handler_id)

    def admit(self, envelope: Envelope) -> None:
        """Raise an ``EventValidationError`` unless ``publish()`` would have sent
        ``envelope``: a known name (strict mode), then ``PayloadValidator.admit``."""
        if self.registry.strict and envelope.type not in self.registry.known:
            raise UnknownEventError(f"{envelope.type!r} is not a member of EventType")
        self.validator.admit(envelope)

    def deliver(self, handler_id: str, envelope: Envelope) -> None:
        """Run one handler for one envelope taken from a transport (worker side).

        Raises :class:`UnknownHandlerError`, :class:`UnknownEventError` (strict mode), another
        ``EventValidationError`` when ``publish()`` would have refused the envelope
        (``PayloadValidator.admit``: depth, encodability, size, declared shape and version),
        or whatever the handler raises: the caller retries, or dead-letters at once for all
        but the last (another attempt cannot succeed). The handler runs with the envelope as
        the current event (and its correlation id) until it returns.
        """
        call = self.registry.call(handler_id)
        self.admit(envelope)
        tokens = enter_delivery(envelope)
        try:
            call(envelope.payload)
        finally:
            exit_delivery(tokens)

    # -- subscriptions and settings (the registry's, see there) ------------------------------------

    def subscribe(
        self,
        event_type: str,
        handler: AnyHandler,
        *,
        handler_id: str | None = None,
        transport: str | None = None,
        owner: str = "",
    ) -> str:
        """Call ``handler(payload)`` for every event matching ``event_type``; return its id.

        ``event_type`` is a name or a wildcard (``"patient.*"``, ``"*"``); in strict mode it
        must name, or match, a known event. A handler declared with a second parameter
        (``def on_x(data, event)``) is called with the ``Envelope`` there too (decided now,
        once). ``handler_id`` defaults to the handler's ``module.qualname``; one id always
        names one callable. ``transport`` overrides the router. A handler subscribed through
        several matching patterns still runs once per event.
        """
        return self.registry.subscribe(
            event_type, handler, handler_id=handler_id, transport=transport, owner=owner
        )

    def unsubscribe(self, event_type: str, handler: AnyHandler) -> None:
        """Stop calling ``handler`` for ``event_type``; a no-op if it was not subscribed."""
        self.registry.unsubscribe(event_type, handler)

    def clear(self) -> None:
        """Remove every subscription (the test-fixture reset)."""
        self.registry.clear()

    def remove_owned(self, owner: str) -> None:
        """Remove the subscriptions made with ``owner`` (the loader's, before re-wiring)."""
        self.registry.remove_owned(owner)

    def restore(self, subscriptions: Iterable[Subscription]) -> None:
        """Replace every subscription with ``subscriptions`` (test fixtures' save/restore)."""
        self.registry.restore(subscriptions)

    def subscriptions(self) -> tuple[Subscription, ...]:
        """Every subscription, in subscription order."""
        return self.registry.subscriptions()

    def subscriptions_for(self, event_type: str) -> tuple[Subscription, ...]:
        """The subscriptions an event named ``event_type`` reaches, one per handler id."""
        return self.registry.subscriptions_for(event_type)

    def configure(
        self,
        *,
        router: Router | None = None,
        transports: Mapping[str, Transport] | None = None,
        strict: bool | None = None,
        validate: bool | None = None,
        max_payload_bytes: int | None = None,
        max_json_depth: int | None = None,
        log_full_errors: bool | None = None,
        raise_handler_errors: bool | None = None,
        schema_check: PayloadCheck | _Unset | None = _UNSET,
    ) -> None:
        """Apply settings (``None`` leaves one unchanged; ``schema_check=None`` removes the
        check) and re-route every subscription.

        ``transports`` maps names to ready transports; ``"inprocess"`` needs no entry.
        Subscriptions made with an explicit transport keep it; the others follow ``router``.
        """
        if validate is not None:
            self.validator.validate = validate
        if max_payload_bytes is not None:
            self.validator.max_payload_bytes = max_payload_bytes
        if max_json_depth is not None:
            self.validator.max_json_depth = max_json_depth
        if log_full_errors is not None:
            self.inprocess.log_full_errors = log_full_errors
        if not isinstance(schema_check, _Unset):
            self.validator.schema_check = schema_check
        if raise_handler_errors is not None:
            self.inprocess.raise_handler_errors = raise_handler_errors
        self.registry.configure(router=router, transports=transports, strict=strict)
        self._refresh_flags()

    @property
    def router(self) -> Router:
        """The router in force."""
        return self.registry.router

    @property
    def transports(self) -> Mapping[str, Transport]:
        """The configured remote transports by name."""
        return self.registry.transports

    @property
    def known_events(self) -> frozenset[str]:
        """The event names accepted in strict mode (by default every ``EventType`` name)."""
        return self.registry.known

    @property
    def strict(self) -> bool:
        """Whether unknown event names are errors (``EVENTBUS_STRICT``)."""
        return self.registry.strict

    @property
    def validate(self) -> bool:
        """Whether every payload is checked (``EVENTBUS_VALIDATE_PAYLOADS``)."""
        return self.validator.validate

    @property
    def max_payload_bytes(self) -> int:
        """The encoded payload size limit (``EVENTBUS_MAX_PAYLOAD_BYTES``)."""
        return self.validator.max_payload_bytes

    @property
    def max_json_depth(self) -> int:
        """The deepest payload nesting accepted (``EVENTBUS_MAX_JSON_DEPTH``)."""
        return self.validator.max_json_depth

    @property
    def log_full_errors(self) -> bool:
        """Whether handler errors are recorded unredacted (``EVENTBUS_LOG_FULL_ERRORS``)."""
        return self.inprocess.log_full_errors

    @property
    def raise_handler_errors(self) -> bool:
        """Whether in-process handler errors are raised together at the end of a dispatch
        (``EVENTBUS_RAISE_HANDLER_ERRORS``)."""
        return self.inprocess.raise_handler_errors

    @raise_handler_errors.setter
    def raise_handler_errors(self, value: bool) -> None:
        self.inprocess.raise_handler_errors = value

    # -- flags -----------------------------------------------------------------------------------

    def _refresh_flags(self) -> None:
        observed = HOOK.notify is not None or HOOK.tracing is not None
        self._checked = self.validator.validate or self._debug or observed

    def _on_logging_configured(self, sender: Any, **extra: Any) -> None:
        self._log = get_logger("eventbus")
        self.inprocess.log = self._log
        self._debug = extra.get("level", 20) <= 10
        self._refresh_flags()
