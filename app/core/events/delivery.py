"""The bus's side for envelopes built elsewhere: the outbox relay, replays, and workers.

:class:`EnvelopeDelivery` is mixed into :class:`~app.core.events.bus.EventBus`; it works on
the bus's plans, registry and in-process dispatch (``_run_local``), which the bus defines.
Here the envelope already exists and keeps its id: nothing is validated again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import context
from .envelope import Envelope
from .exceptions import UnknownEventError, UnknownHandlerError
from .plans import Plan
from .subscriptions import Handler, Subscription
from .transport import Transport

__all__ = ["EnvelopeDelivery"]


class EnvelopeDelivery:
    """Publishing prepared envelopes (``publish_envelope``, ``send_remote_batch``) and running
    one handler for one envelope taken from a transport (``deliver``)."""

    strict: bool
    _known: frozenset[str]
    _registry: dict[str, Handler]

    def _plan_for(self, event_type: str) -> Plan:
        """The bus's plan of ``event_type`` (defined by the bus)."""
        raise NotImplementedError

    def _run_local(
        self,
        event_type: str,
        data: dict[str, Any],
        envelope: Envelope | None,
        local: tuple[Handler, ...],
    ) -> None:
        """The bus's in-process dispatch under its failure policy (defined by the bus)."""
        raise NotImplementedError

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
