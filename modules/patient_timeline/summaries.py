"""One readable line per event type, for the timeline."""

from __future__ import annotations

from typing import Any

__all__ = ["summarize"]

_LINES: dict[str, str] = {
    "patient.created": "Patient registered",
    "patient.updated": "Details updated: {changed}",
    "patient.archived": "Patient archived",
    "appointment.scheduled": "Appointment booked for {starts_at}",
    "appointment.rescheduled": "Appointment moved from {previous_starts_at} to {starts_at}",
    "appointment.cancelled": "Appointment on {starts_at} cancelled",
    "appointment.completed": "Appointment completed",
    "invoice.issued": "Invoice issued: {total_cents} {currency} cents",
    "invoice.payment_recorded": "Payment of {amount_cents} {currency} cents recorded",
    "invoice.paid": "Invoice paid in full: {amount_cents} {currency} cents",
    "notification.sent": "Notification sent by {channel}: {kind}",
}


def summarize(event_type: str, payload: dict[str, Any]) -> str:
    """A short line for the event (the event name itself for types without a line)."""
    template = _LINES.get(event_type)
    if template is None:
        return event_type
    values = {
        key: ", ".join(map(str, value)) if isinstance(value, list) else value
        for key, value in payload.items()
    }
    try:
        return template.format_map(values)[:300]
    except (KeyError, ValueError, IndexError):
        return event_type
