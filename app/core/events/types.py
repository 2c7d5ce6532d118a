"""``EventType``: the one list of known event names.

A new event MUST be added here before any module publishes or subscribes to it; with
``EVENTBUS_STRICT`` on (the default) the bus rejects every other name. :data:`KNOWN_EVENTS`
is the same list as plain strings, in declaration order: the bus (``EventBus.known_events``
starts from it), the module loader, the catalog and the Redis Streams wildcard expansion
all read it from there.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["KNOWN_EVENTS", "EventType"]


class EventType(StrEnum):
    """Event names, ``entity.action``. Members compare equal to their string values."""

    PATIENT_CREATED = "patient.created"
    PATIENT_UPDATED = "patient.updated"
    PATIENT_ARCHIVED = "patient.archived"
    APPOINTMENT_SCHEDULED = "appointment.scheduled"
    APPOINTMENT_RESCHEDULED = "appointment.rescheduled"
    APPOINTMENT_CANCELLED = "appointment.cancelled"
    APPOINTMENT_COMPLETED = "appointment.completed"
    INVOICE_ISSUED = "invoice.issued"
    INVOICE_PAYMENT_RECORDED = "invoice.payment_recorded"
    INVOICE_PAID = "invoice.paid"
    NOTIFICATION_SENT = "notification.sent"

    # Enum hashes members in Python code; a member is a str, so str's C hash is equal and
    # ~40 ns cheaper on every publish (the bus looks its plan up by the name).
    __hash__ = str.__hash__


KNOWN_EVENTS: tuple[str, ...] = tuple(member.value for member in EventType)
"""Every declared event name, in declaration order (see the module docstring)."""
