"""Event handlers: each runs in its own transaction, once per event id (the module's inbox)."""

from __future__ import annotations

from typing import Any

from app.core.events import current_event
from app.core.events.envelope import utc_timestamp
from app.core.persistence import idempotent_handler

from .service import notify, remember_contact

__all__ = [
    "on_appointment_cancelled",
    "on_appointment_rescheduled",
    "on_appointment_scheduled",
    "on_invoice_paid",
    "on_patient_created",
    "on_patient_updated",
]


@idempotent_handler
def on_patient_created(payload: dict[str, Any]) -> None:
    """Remember the contact details, then welcome the patient."""
    _remember(payload)
    notify(payload["patient_id"], "welcome", {}, _event_id())


@idempotent_handler
def on_patient_updated(payload: dict[str, Any]) -> None:
    """Keep the contact details current (and deliver messages that waited for them)."""
    _remember(payload)


@idempotent_handler
def on_appointment_scheduled(payload: dict[str, Any]) -> None:
    """Confirm the booking."""
    context = _pick(payload, "appointment_id", "starts_at", "duration_minutes")
    notify(payload["patient_id"], "appointment_scheduled", context, _event_id())


@idempotent_handler
def on_appointment_rescheduled(payload: dict[str, Any]) -> None:
    """Tell the patient the new time."""
    context = _pick(payload, "appointment_id", "starts_at", "previous_starts_at")
    notify(payload["patient_id"], "appointment_rescheduled", context, _event_id())


@idempotent_handler
def on_appointment_cancelled(payload: dict[str, Any]) -> None:
    """Tell the patient the appointment is off."""
    context = _pick(payload, "appointment_id", "starts_at")
    notify(payload["patient_id"], "appointment_cancelled", context, _event_id())


@idempotent_handler
def on_invoice_paid(payload: dict[str, Any]) -> None:
    """Send a receipt."""
    context = _pick(payload, "invoice_id", "amount_cents", "currency")
    notify(payload["patient_id"], "payment_receipt", context, _event_id())


def _remember(payload: dict[str, Any]) -> None:
    envelope = current_event()
    remember_contact(
        payload["patient_id"],
        envelope.occurred_at if envelope is not None else utc_timestamp(),
        full_name=payload.get("full_name"),
        email=payload.get("email"),
        phone=payload.get("phone"),
    )


def _pick(payload: dict[str, Any], *names: str) -> dict[str, Any]:
    return {name: payload[name] for name in names if name in payload}


def _event_id() -> str | None:
    envelope = current_event()
    return envelope.id if envelope is not None else None
