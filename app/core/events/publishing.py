"""The checked publish path: validate, hand to the remote transports, observe, run locally.

:class:`Publisher` is the part of :class:`~app.core.events.bus.EventBus` that sends events
which need more than calling in-process handlers: a payload check, a remote transport, a debug
log line, an observer or a tracer. It also sends envelopes that were checked earlier
(``publish_after_commit``, the outbox relay, replays) and batches of them. It reads, never
writes, the registry, validator and in-process transport it is given.

Failure semantics (every method): a bad payload raises an ``EventValidationError`` before
anything is sent; a remote transport that cannot take the event raises ``TransportError``
before any in-process handler has run; in-process handlers then run under the in-process
transport's failure policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.log import get_logger

from .context import current_dispatch, dispatch_of, envelope_of, new_envelope, producer_of_frame
from .envelope import Envelope
from .inprocess import InProcessTransport
from .instrumentation import HOOK, Tracing
from .observed import observe_published, with_trace_context
from .payload import encode_payload
from .plans import INPROCESS, DispatchPlan
from .registry import SubscriptionRegistry
from .subscriptions import Subscription
from .transport import Transport
from .validation import PayloadValidator

__all__ = ["Publisher"]


class Publisher:
    """Sends events through the plans of ``registry``, checking them with ``validator``."""

    def __init__(
        self,
        registry: SubscriptionRegistry,
        validator: PayloadValidator,
        inprocess: InProcessTransport,
    ) -> None:
        self.registry = registry
        self.validator = validator
        self.inprocess = inprocess
        self.log: Any = get_logger("eventbus")
        self.debug = False
        """Whether each publish is logged (``event.published``) at debug level."""

    def publish(
        self, event_type: str, data: dict[str, Any], plan: DispatchPlan, caller: Any
    ) -> None:
        """Check ``data``, then send it as ``plan`` says; in a producer span when tracing.
        ``caller``: the publisher's frame (read only for the producer's module name)."""
        encoded = self.validator.check(event_type, data, bool(plan.remote))
        if self.debug:
            self.log.debug("event.published", event_type=str(event_type), handlers=plan.count)
        tracing = HOOK.tracing
        if tracing is None:
            self.dispatch(event_type, data, plan, caller, encoded, None)
            return
        with tracing.publishing(event_type) as span:
            self.dispatch(event_type, data, plan, caller, encoded, (tracing, span))

    def dispatch(  # noqa: PLR0917  (positional: a keyword argument costs ~25 ns per call)
        self,
        event_type: str,
        data: dict[str, Any],
        plan: DispatchPlan,
        caller: Any,
        encoded: str | None,
        trace: tuple[Tracing, Any] | None,
    ) -> None:
        """Hand a checked event to its remote transports, then run its in-process handlers.

        ``caller``: the publisher's frame; ``encoded``: what the check returned (the
        payload's JSON if it made it; else the payload is encoded here, once, for every remote
        transport); ``trace``: the tracer and the producer span the envelope's trace context
        comes from, or ``None``. Called by :meth:`publish`, and by ``EventBus.publish`` itself
        (after the check) when nothing observes: no debug log, hook or tracer.
        """
        parent = current_dispatch()
        local, remote = plan.calls, plan.remote
        if remote:
            producer = producer_of_frame(caller)
            envelope = new_envelope(
                event_type, data, producer, parent, encoded or encode_payload(data)
            )
            if trace is not None:
                envelope = with_trace_context(envelope, *trace)
            for transport, subs in remote:
                transport.publish(envelope, subs)
                if HOOK.notify is not None:
                    observe_published(envelope, transport.name, len(subs))
            if not local:
                return  # remote handlers only: nothing runs here
            dispatch = dispatch_of(envelope)
        else:
            dispatch = [event_type, data, caller, parent, None]
        if HOOK.notify is not None and (local or not remote):
            observe_published(envelope_of(dispatch), INPROCESS if local else "none", len(local))
        if local:
            self.inprocess.run(dispatch, local, plan.handler_ids)

    def prepare(self, event_type: str, data: dict[str, Any], producer: str) -> Envelope:
        """Check an event as :meth:`publish` would and build its envelope, sending nothing."""
        plan = self.registry.plan(event_type)
        encoded = self.validator.check(event_type, data, bool(plan.remote))
        return new_envelope(event_type, data, producer, current_dispatch(), encoded)

    def publish_envelope(self, envelope: Envelope, local: bool, remote: bool) -> None:
        """Send an envelope checked earlier, keeping its id (see ``EventBus.publish_envelope``)."""
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
        if HOOK.notify is not None and (plan.calls or not plan.remote):
            observe_published(envelope, INPROCESS if plan.calls else "none", len(plan.calls))
        if local and plan.calls:
            self.inprocess.run(dispatch_of(envelope), plan.calls, plan.handler_ids)

    def send_remote_batch(self, envelopes: Sequence[Envelope]) -> None:
        """Hand many envelopes checked earlier to their remote transports, one batch per
        transport (see ``EventBus.send_remote_batch``)."""
        registry = self.registry
        batches: dict[int, tuple[Transport, list[tuple[Envelope, tuple[Subscription, ...]]]]] = {}
        for envelope in envelopes:
            plan = registry.plans.get(envelope.type) or registry.plan(envelope.type)
            for transport, subs in plan.remote:
                batch = batches.get(id(transport))
                if batch is None:
                    batch = batches[id(transport)] = (transport, [])
                batch[1].append((envelope, subs))
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
