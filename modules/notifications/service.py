"""Notifications: remember contacts, create messages, deliver them through the sender.

Runs inside an event handler's own transaction (see ``handlers.py``). A message whose
patient's contact details have not arrived yet waits as ``pending`` and is delivered when
they do (remote transports may deliver ``appointment.scheduled`` before ``patient.created``).

Workers run several handlers of one patient at once, so both paths first lock the patient's
contact row (:func:`_locked_contact`, creating an empty one, ``as_of == ""``, if none exists):
a message created while the contact details arrive is either seen by the handler that stores
them or finds them stored, never neither (it would stay ``pending`` for good). Handlers run as
write units (``handler_transaction``), so on SQLite that lock is the database's write lock.

Delivery through the sender is at least once; each message's ``idempotency_key`` (its id,
stable across retries of the handling that created it) lets a provider deduplicate.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from app.core.events import EventType
from app.core.events.payloads import NotificationChannel, NotificationKind, NotificationSent
from app.core.persistence import idempotency_key, new_id, publish_after_commit, stable_id, utcnow
from app.db import db
from app.log import get_logger

from .models import FAILED, PENDING, SENT, SKIPPED, Contact, Message
from .sender import NotificationsState, OutgoingMessage
from .templates import render

__all__ = ["messages_for", "notify", "remember_contact"]

_UNKNOWN = ""
"""``Contact.as_of`` of a row created only to be locked: no patient event applied yet."""


def remember_contact(
    patient_id: str, as_of: str, *, full_name: str | None, email: str | None, phone: str | None
) -> None:
    """Store the patient's contact details unless newer ones (by event time) are stored;
    then deliver the patient's pending messages."""
    contact = _locked_contact(patient_id)
    if contact.as_of > as_of:
        return
    contact.full_name, contact.email, contact.phone, contact.as_of = full_name, email, phone, as_of
    db.session.flush()
    _deliver_pending(contact)


def notify(
    patient_id: str, kind: NotificationKind, context: dict[str, Any], source_event_id: str | None
) -> Message:
    """Create a ``kind`` message for the patient and deliver it if their contact is known.

    Inside an idempotent handler the message id is derived from the handling's idempotency key
    (event id and handler id), so a retried handling creates and sends the same message id: the
    sender's ``idempotency_key``. Elsewhere it is a new id."""
    key = idempotency_key()
    message = Message(
        id=stable_id(key) if key is not None else new_id(),
        patient_id=patient_id,
        kind=kind,
        context=context,
        status=PENDING,
        source_event_id=source_event_id,
    )
    db.session.add(message)
    contact = _locked_contact(patient_id)
    if contact.as_of != _UNKNOWN:
        _deliver(message, contact)
    return message


def messages_for(patient_id: str, limit: int) -> list[Message]:
    """The patient's messages, oldest first."""
    query = (
        select(Message)
        .where(Message.patient_id == patient_id)
        .order_by(Message.created_at, Message.id)
        .limit(limit)
    )
    return list(db.session.scalars(query).all())


def _locked_contact(patient_id: str) -> Contact:
    """The patient's contact row, locked until the transaction ends (``FOR UPDATE``; SQLite
    serialises writing transactions anyway), created empty (``as_of == ""``) if missing.

    The empty row is inserted with ``ON CONFLICT DO NOTHING``: when a concurrent handler
    inserts it first, PostgreSQL waits for that one to commit and we lock its row instead.
    """
    contact = db.session.get(Contact, patient_id, with_for_update=True)
    if contact is not None:
        return contact
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    row = {"patient_id": patient_id, "as_of": _UNKNOWN}
    db.session.execute(dialect.insert(Contact).values(row).on_conflict_do_nothing())
    locked = db.session.get(Contact, patient_id, with_for_update=True, populate_existing=True)
    if locked is None:  # pragma: no cover - the row was just inserted or found
        raise RuntimeError(f"no contact row for {patient_id} after inserting it")
    return locked


def _deliver_pending(contact: Contact) -> None:
    query = (
        select(Message)
        .where(Message.patient_id == contact.patient_id, Message.status == PENDING)
        .order_by(Message.created_at, Message.id)
    )
    for message in db.session.scalars(query).all():
        _deliver(message, contact)


def _deliver(message: Message, contact: Contact) -> None:
    channel: NotificationChannel
    if contact.email:
        channel, recipient = "email", contact.email
    elif contact.phone:
        channel, recipient = "sms", contact.phone
    else:
        message.status, message.error = SKIPPED, "the patient has no e-mail address or phone"
        return
    subject, body = render(message.kind, contact.full_name, message.context)
    message.channel, message.recipient = channel, recipient
    message.subject, message.body = subject, body
    state: NotificationsState = current_app.extensions["notifications"]
    outgoing = OutgoingMessage(
        message.id, message.patient_id, message.kind, channel, recipient, subject, body, message.id
    )
    try:
        state.sender.send(outgoing)
    except Exception as exc:
        message.status, message.error = FAILED, type(exc).__name__
        get_logger("notifications").warning(
            "notification.failed", notification_id=message.id, error=type(exc).__name__
        )
        return
    message.status, message.sent_at = SENT, utcnow()
    kind: NotificationKind = message.kind  # type: ignore[assignment]
    payload: NotificationSent = {
        "notification_id": message.id,
        "patient_id": message.patient_id,
        "kind": kind,
        "channel": channel,
    }
    publish_after_commit(EventType.NOTIFICATION_SENT, payload)
