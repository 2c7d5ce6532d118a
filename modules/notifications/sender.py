"""The sender interface: how a rendered message leaves the clinic.

The default :class:`RecordingSender` talks to no mail server: it keeps the last messages in
memory and logs ids only (no address, no text). A deployment plugs in its own sender (SMTP,
an SMS gateway…) by setting ``app.extensions["notifications"].sender``.

Sending is **at least once**: the message row, its status and ``notification.sent`` commit
exactly once with the handler's inbox row, but a worker killed after ``send()`` returned and
before that commit sends again when the event is redelivered. Every message carries an
``idempotency_key`` that is the same on each such retry (the message id, derived from the
event id and the handler id: :func:`app.core.persistence.idempotency_key`); a real sender
passes it to its provider (an ``Idempotency-Key`` header, the mail's ``Message-ID``…) so that
the patient receives the message once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from app.log import get_logger

__all__ = ["NotificationsState", "OutgoingMessage", "RecordingSender", "Sender"]


@dataclass(frozen=True)
class OutgoingMessage:
    """A rendered message, ready to send. ``idempotency_key``: deduplicate on it (see above)."""

    notification_id: str
    patient_id: str
    kind: str
    channel: str
    recipient: str
    subject: str
    body: str
    idempotency_key: str


@runtime_checkable
class Sender(Protocol):
    """Sends one message. Raises on failure (the message is then stored as ``failed``).

    May be called again with a message of the same ``idempotency_key`` (at least once, see the
    module docstring): a provider that deduplicates on the key delivers it once.
    May be called from several threads at once (web and worker threads): be thread safe.
    """

    def send(self, message: OutgoingMessage) -> None:
        """Hand ``message`` over for delivery on its channel."""
        ...


class RecordingSender:
    """The default sender: records the last ``keep`` messages and logs their ids."""

    def __init__(self, keep: int = 1000) -> None:
        self.sent: deque[OutgoingMessage] = deque(maxlen=keep)
        self._log: Any = get_logger("notifications.sender")

    def send(self, message: OutgoingMessage) -> None:
        """Record ``message`` (``deque.append`` is thread safe) and log its ids."""
        self.sent.append(message)
        self._log.info(
            "notification.sent",
            notification_id=message.notification_id,
            patient_id=message.patient_id,
            kind=message.kind,
            channel=message.channel,
        )


@dataclass
class NotificationsState:
    """The module's per-app state, in ``app.extensions["notifications"]``."""

    sender: Sender
