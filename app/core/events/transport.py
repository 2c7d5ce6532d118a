"""The ``Transport`` protocol: how the bus hands an event to the thing that runs its handlers.

A transport is built from the app config by a factory in ``transports/`` and is given the
subscriptions routed to it. Consuming is transport-specific (a worker command), but every
consumer ends in :meth:`EventBus.deliver`, which finds the handler by id in the registry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from .envelope import Envelope
from .subscriptions import Subscription

__all__ = ["Transport"]


@runtime_checkable
class Transport(Protocol):
    """What every transport does. The in-process transport is the reference implementation.

    Contract:

    - ``prepare`` MUST make the transport ready to accept events for ``subscriptions`` (for a
      broker: create consumer groups or queues) so that no event published after it returns is
      missed by any of them. It is called at start-up and again when subscriptions change; it
      MUST be idempotent. It raises :class:`ConfigurationError` listing every problem found.
    - ``publish`` MUST either hand ``envelope`` to the transport for every one of
      ``subscriptions`` and return, or raise :class:`TransportError` (with the cause chained);
      an event counts as published only when ``publish`` returns. It MUST NOT mutate the
      envelope. Each subscription MUST eventually see the event at least once (remote) or
      exactly once now (in-process).
    - A handler error MUST NOT propagate out of a remote transport's ``publish``; it is the
      consumer's to retry or dead-letter.
    - ``close`` releases connections; it MUST be safe to call twice, and ``publish`` after
      ``close`` raises :class:`TransportError`.
    - A transport with a broker SHOULD also have ``ping()``, raising :class:`TransportError`
      when the broker does not answer: ``/health/ready`` calls it (optional, so in-process
      and test transports need none).
    """

    name: str

    def prepare(self, subscriptions: Sequence[Subscription]) -> None:
        """Get ready to carry events to ``subscriptions``; idempotent."""
        ...

    def publish(self, envelope: Envelope, subscriptions: Sequence[Subscription]) -> None:
        """Hand ``envelope`` over for each of ``subscriptions`` or raise ``TransportError``."""
        ...

    def close(self) -> None:
        """Release resources; safe to call more than once."""
        ...
