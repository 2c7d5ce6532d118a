"""``EventBus``: subscribe / unsubscribe / publish / clear, transport-agnostic.

The bus is small and owns its parts, each usable alone:

- a :class:`~app.core.events.registry.SubscriptionRegistry` (subscriptions, routing, known
  names) that hands out immutable dispatch plans, one per event name;
- a :class:`~app.core.events.validation.PayloadValidator` (what ``publish`` checks);
- an :class:`~app.core.events.inprocess.InProcessTransport` that runs the in-process handlers;
- a :class:`~app.core.events.publishing.Publisher` (the checked path: validation, remote
  transports, observers, envelopes checked earlier) and a
  :class:`~app.core.events.delivery.WorkerDelivery` (the worker side: admit, deliver).

Its settings are stored on those parts (:mod:`~app.core.events.settings`).

``publish(name, payload)`` takes the plan of ``name``; with something observing (a debug
log, a hook or a tracer) it hands the event to the publisher (``Publisher.publish``: check,
log, producer span, then ``Publisher.dispatch``). Otherwise it checks the payload
(``PayloadValidator.check``) and hands it to ``Publisher.dispatch`` when a remote handler
wants it (``publish → Publisher.dispatch → transport.publish``: one envelope, its payload
encoded once), else to the in-process transport (``InProcessTransport.run_unobserved``).
The longest chain from ``publish`` to a handler is ``publish → Publisher.publish →
Publisher.dispatch → InProcessTransport.run → handler``.

Thread safety: ``subscribe``, ``unsubscribe``, ``clear`` and ``configure`` take the
registry's lock and replace the plans; ``publish`` reads them without locking and may run on
any number of threads at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.log import get_logger, logging_configured

from .context import current_dispatch, publisher_frame
from .delivery import WorkerDelivery
from .envelope import Envelope
from .inprocess import InProcessTransport
from .instrumentation import HOOK
from .plans import INPROCESS
from .publishing import Publisher
from .registry import SubscriptionRegistry
from .routing import Router
from .settings import UNSET, Setting, Unset, apply_settings
from .subscriptions import AnyHandler, Handler, Subscription
from .transport import Transport
from .validation import PayloadCheck, PayloadValidator

__all__ = ["INPROCESS", "EventBus"]


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
        self.publisher = Publisher(self.registry, self.validator, self.inprocess)
        self.workers = WorkerDelivery(self.registry, self.validator)
        self._observed = False  # debug logging, an observer or a tracer on: _refresh_flags
        self._validating = True  # the validator's ``validate``, read without a call
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
        try:
            plan = self.registry.plans[event_type]
        except KeyError:  # first publish of the name since subscriptions changed
            plan = self.registry.plan(event_type)
        if self._observed:
            self.publisher.publish(event_type, data, plan, publisher_frame(1))
            return
        if plan.remote:  # a payload crossing the wire is checked even with validation off
            encoded = self.validator.check(event_type, data, True)
            self.publisher.dispatch(event_type, data, plan, publisher_frame(1), encoded, None)
            return
        if self._validating:
            self.validator.check(event_type, data, False)
        if plan.calls:
            dispatch = [event_type, data, publisher_frame(1), current_dispatch(), None]
            self.inprocess.run_unobserved(dispatch, plan.calls, plan.handler_ids)

    def prepare(self, event_type: str, data: dict[str, Any], *, producer: str) -> Envelope:
        """Check an event as ``publish`` would and build its envelope, without sending it.

        For events sent later (``publish_after_commit``): the envelope then goes out through
        :meth:`publish_envelope` (and the outbox relay) without being checked again. Raises
        the same ``EventValidationError`` subclasses as ``publish``.
        """
        return self.publisher.prepare(event_type, data, producer)

    def publish_envelope(
        self, envelope: Envelope, *, local: bool = True, remote: bool = True
    ) -> None:
        """Deliver an envelope that was built and checked earlier, keeping its id.

        ``remote`` hands it to every remote transport its type is routed to (raising
        ``TransportError`` like ``publish``); ``local`` then runs the in-process handlers
        under the usual failure policy. Nothing is checked again. ``remote=False`` means the
        caller keeps the remote part (the outbox): observers hear ``outbox`` as its transport.
        """
        self.publisher.publish_envelope(envelope, local, remote)

    def send_remote_batch(self, envelopes: Sequence[Envelope]) -> None:
        """Hand many prepared envelopes to their remote transports, batched per transport.

        A transport with a ``publish_batch(items)`` method gets each of its items in one
        call (one round trip); others get one ``publish`` per item. Raises
        ``TransportError`` if any batch fails: then some items may have been sent.
        """
        self.publisher.send_remote_batch(envelopes)

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
        return self.workers.handler(handler_id)

    def admit(self, envelope: Envelope) -> None:
        """Raise an ``EventValidationError`` unless ``publish()`` would have sent
        ``envelope``: a known name (strict mode), then ``PayloadValidator.admit``."""
        self.workers.admit(envelope)

    def deliver(self, handler_id: str, envelope: Envelope) -> None:
        """Run one handler for one envelope taken from a transport (worker side).

        Raises :class:`UnknownHandlerError`, :class:`UnknownEventError` (strict mode), another
        ``EventValidationError`` when ``publish()`` would have refused the envelope
        (``PayloadValidator.admit``: depth, encodability, size, declared shape and version),
        or whatever the handler raises: the caller retries, or dead-letters at once for all
        but the last (another attempt cannot succeed). The handler runs with the envelope as
        the current event (and its correlation id) until it returns.
        """
        self.workers.deliver(handler_id, envelope)

    # -- subscriptions (the registry's, see there) -----------------------------------------------

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

    # -- settings (stored on the parts, see app.core.events.settings) ----------------------------

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
        schema_check: PayloadCheck | Unset | None = UNSET,
    ) -> None:
        """Apply settings (``None`` leaves one unchanged; ``schema_check=None`` removes the
        check) and re-route every subscription.

        ``transports`` maps names to ready transports; ``"inprocess"`` needs no entry.
        Subscriptions made with an explicit transport keep it; the others follow ``router``.
        """
        apply_settings(
            self.registry,
            self.validator,
            self.inprocess,
            router=router,
            transports=transports,
            strict=strict,
            validate=validate,
            max_payload_bytes=max_payload_bytes,
            max_json_depth=max_json_depth,
            log_full_errors=log_full_errors,
            raise_handler_errors=raise_handler_errors,
            schema_check=schema_check,
        )
        self._refresh_flags()

    router = Setting["EventBus", Router](lambda bus: bus.registry.router, "The router in force.")
    transports = Setting["EventBus", Mapping[str, Transport]](
        lambda bus: bus.registry.transports, "The configured remote transports by name."
    )
    known_events = Setting["EventBus", frozenset[str]](
        lambda bus: bus.registry.known,
        "The event names accepted in strict mode (by default every ``EventType`` name).",
    )
    strict = Setting["EventBus", bool](
        lambda bus: bus.registry.strict,
        "Whether unknown event names are errors (``EVENTBUS_STRICT``).",
    )
    validate = Setting["EventBus", bool](
        lambda bus: bus.validator.validate,
        "Whether every payload is checked (``EVENTBUS_VALIDATE_PAYLOADS``).",
    )
    max_payload_bytes = Setting["EventBus", int](
        lambda bus: bus.validator.max_payload_bytes,
        "The encoded payload size limit (``EVENTBUS_MAX_PAYLOAD_BYTES``).",
    )
    max_json_depth = Setting["EventBus", int](
        lambda bus: bus.validator.max_json_depth,
        "The deepest payload nesting accepted (``EVENTBUS_MAX_JSON_DEPTH``).",
    )
    log_full_errors = Setting["EventBus", bool](
        lambda bus: bus.inprocess.log_full_errors,
        "Whether handler errors are recorded unredacted (``EVENTBUS_LOG_FULL_ERRORS``).",
    )

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
        self._observed = self.publisher.debug or observed
        self._validating = self.validator.validate

    def _on_logging_configured(self, sender: Any, **extra: Any) -> None:
        log = get_logger("eventbus")
        self.publisher.log = self.inprocess.log = log
        self.publisher.debug = extra.get("level", 20) <= 10
        self._refresh_flags()
