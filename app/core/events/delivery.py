"""The worker side: run one handler for one envelope read from a transport.

A worker (Redis Streams, RQ) trusts nothing it reads: :class:`WorkerDelivery` admits an
envelope only if ``publish()`` would have sent it (a known name in strict mode, then
:meth:`PayloadValidator.admit <app.core.events.validation.PayloadValidator.admit>`), and then
runs the handler with the envelope as the current event and its correlation id as the current
one, until the handler returns.
"""

from __future__ import annotations

from .context import run_delivery
from .envelope import Envelope
from .exceptions import UnknownEventError
from .registry import SubscriptionRegistry
from .subscriptions import Handler
from .validation import PayloadValidator

__all__ = ["WorkerDelivery"]


class WorkerDelivery:
    """Admits envelopes with ``validator`` and runs the handlers of ``registry``."""

    def __init__(self, registry: SubscriptionRegistry, validator: PayloadValidator) -> None:
        self.registry = registry
        self.validator = validator

    def handler(self, handler_id: str) -> Handler:
        """How to call the handler registered under ``handler_id`` with a payload;
        :class:`UnknownHandlerError` if none."""
        return self.registry.call(handler_id)

    def admit(self, envelope: Envelope) -> None:
        """Raise an ``EventValidationError`` unless ``publish()`` would have sent
        ``envelope``: a known name (strict mode), then ``PayloadValidator.admit``."""
        if self.registry.strict and envelope.type not in self.registry.known:
            raise UnknownEventError(f"{envelope.type!r} is not a member of EventType")
        self.validator.admit(envelope)

    def deliver(self, handler_id: str, envelope: Envelope) -> None:
        """Find the handler, admit the envelope, then run the handler with it as the current
        event (see ``EventBus.deliver`` for what it raises)."""
        call = self.registry.call(handler_id)
        registry = self.registry  # admit(), inlined: one call fewer for every delivered event
        if registry.strict and envelope.type not in registry.known:
            raise UnknownEventError(f"{envelope.type!r} is not a member of EventType")
        self.validator.admit(envelope)
        run_delivery(envelope, call)
