"""The declared payload of every ``EventType``: fields, types, required or not, a version.

Each payload is a ``TypedDict`` (one place for humans and for mypy: a publisher that builds
``PatientCreated(...)`` is type-checked) registered in :data:`DECLARED_PAYLOADS` with its
version. :func:`check_declared_payload` is the bus's ``schema_check``: with
``EVENTBUS_VALIDATE_PAYLOADS`` on, ``publish()`` rejects a payload that is missing a required
field, has an undeclared one, or has a value of the wrong type, raising
:class:`PayloadSchemaError` naming the field. Nothing is dispatched when it raises.

Changing a payload means changing its ``TypedDict`` here, and bumping ``version`` when a
consumer written for the old shape could misread the new one (a removed or retyped field).
Every event that concerns a patient carries ``patient_id``: the timeline subscribes to ``*``.
No ``from __future__ import annotations`` here, so the ``TypedDict`` classes stay exact at run
time (``__required_keys__`` is wrong with it on Python 3.11).
"""

from collections.abc import Mapping
from typing import Any, Literal, NotRequired, TypedDict

from .exceptions import PayloadSchemaError
from .payload_shapes import FieldDoc, IsoDateTime, PayloadSpec, ShapeError
from .types import EventType

__all__ = [
    "DECLARED_PAYLOADS",
    "AppointmentCancelled",
    "AppointmentCompleted",
    "AppointmentRescheduled",
    "AppointmentScheduled",
    "InvoiceIssued",
    "InvoicePaid",
    "InvoicePaymentRecorded",
    "NotificationChannel",
    "NotificationKind",
    "NotificationSent",
    "PatientArchived",
    "PatientCreated",
    "PatientUpdated",
    "check_declared_payload",
    "declared_fields",
    "declared_version",
]

NotificationKind = Literal[
    "welcome",
    "appointment_scheduled",
    "appointment_rescheduled",
    "appointment_cancelled",
    "payment_receipt",
]
NotificationChannel = Literal["email", "sms"]


class PatientCreated(TypedDict):
    """A patient was registered. Contact fields let consumers greet them without a lookup."""

    patient_id: str
    clinic_id: str
    full_name: NotRequired[str]
    email: NotRequired[str | None]
    phone: NotRequired[str | None]


class PatientUpdated(TypedDict):
    """A patient's details changed; ``changed`` names the fields, the rest is the new contact."""

    patient_id: str
    clinic_id: str
    changed: list[str]
    full_name: str
    email: str | None
    phone: str | None


class PatientArchived(TypedDict):
    """A patient was archived: no new appointments or invoices for them."""

    patient_id: str
    clinic_id: str


class AppointmentScheduled(TypedDict):
    """An appointment was booked."""

    appointment_id: str
    patient_id: str
    starts_at: IsoDateTime
    duration_minutes: int


class AppointmentRescheduled(TypedDict):
    """An appointment moved to a new time."""

    appointment_id: str
    patient_id: str
    starts_at: IsoDateTime
    previous_starts_at: IsoDateTime
    duration_minutes: int


class AppointmentCancelled(TypedDict):
    """An appointment was cancelled, with an optional reason."""

    appointment_id: str
    patient_id: str
    starts_at: IsoDateTime
    reason: str | None


class AppointmentCompleted(TypedDict):
    """An appointment took place."""

    appointment_id: str
    patient_id: str


class InvoiceIssued(TypedDict):
    """An invoice was issued; amounts are integers in the currency's minor unit (cents)."""

    invoice_id: str
    patient_id: str
    currency: str
    total_cents: int
    line_count: int


class InvoicePaymentRecorded(TypedDict):
    """A payment (possibly partial) was recorded against an invoice."""

    invoice_id: str
    patient_id: str
    payment_id: str
    currency: str
    amount_cents: int
    balance_cents: int


class InvoicePaid(TypedDict):
    """An invoice is fully paid; ``amount_cents`` is its total."""

    invoice_id: str
    patient_id: str
    currency: str
    amount_cents: int


class NotificationSent(TypedDict):
    """A message was handed to the sender."""

    notification_id: str
    patient_id: str
    kind: NotificationKind
    channel: NotificationChannel


DECLARED_PAYLOADS: Mapping[str, PayloadSpec] = {
    EventType.PATIENT_CREATED: PayloadSpec(PatientCreated, version=1),
    EventType.PATIENT_UPDATED: PayloadSpec(PatientUpdated, version=1),
    EventType.PATIENT_ARCHIVED: PayloadSpec(PatientArchived, version=1),
    EventType.APPOINTMENT_SCHEDULED: PayloadSpec(AppointmentScheduled, version=1),
    EventType.APPOINTMENT_RESCHEDULED: PayloadSpec(AppointmentRescheduled, version=1),
    EventType.APPOINTMENT_CANCELLED: PayloadSpec(AppointmentCancelled, version=1),
    EventType.APPOINTMENT_COMPLETED: PayloadSpec(AppointmentCompleted, version=1),
    EventType.INVOICE_ISSUED: PayloadSpec(InvoiceIssued, version=1),
    EventType.INVOICE_PAYMENT_RECORDED: PayloadSpec(InvoicePaymentRecorded, version=1),
    EventType.INVOICE_PAID: PayloadSpec(InvoicePaid, version=1),
    EventType.NOTIFICATION_SENT: PayloadSpec(NotificationSent, version=1),
}
"""Event name → its declared payload. A test keeps it in step with ``EventType``."""


def check_declared_payload(event_type: str, payload: Mapping[str, Any]) -> None:
    """Raise :class:`PayloadSchemaError` unless ``payload`` fits ``event_type``'s declaration.

    Names without a declaration (possible only with ``EVENTBUS_STRICT`` off) are not checked.
    """
    spec = DECLARED_PAYLOADS.get(event_type)
    if spec is None:
        return
    try:
        spec.check(payload)
    except ShapeError as exc:
        raise PayloadSchemaError(
            f"{event_type} payload (v{spec.version}): {exc}; "
            "the declaration is in app/core/events/schemas.py"
        ) from None


def declared_version(event_type: str) -> int:
    """The declared payload version of ``event_type`` (1 when it has no declaration)."""
    spec = DECLARED_PAYLOADS.get(event_type)
    return spec.version if spec is not None else 1


def declared_fields(event_type: str) -> tuple[FieldDoc, ...]:
    """The declared fields of ``event_type`` (empty when it has no declaration)."""
    spec = DECLARED_PAYLOADS.get(event_type)
    return spec.fields if spec is not None else ()
