"""The declared payload of every ``EventType``, and the one check ``publish()`` runs on it.

Each payload is a ``TypedDict`` (one place for humans and for mypy: a publisher that builds a
``PatientCreated`` is type-checked) registered in :data:`DECLARED_PAYLOADS` with its version.
At run time pydantic validates it through a ``TypeAdapter``, strictly (``"1"`` is not an
integer, ``True`` is not one either) and rejecting undeclared fields, with the same annotated
types the HTTP bodies use (``IsoDateTime``...): one vocabulary, and one JSON Schema per
payload for the AsyncAPI document (``flask events asyncapi``).

:func:`check_declared_payload` is the one entry point: ``publish()`` calls it (with
``EVENTBUS_VALIDATE_PAYLOADS`` on) and so may a worker re-checking what it consumed. It raises
:class:`PayloadSchemaError` naming the event, the version and the field, never the value.

Changing a payload means changing its ``TypedDict`` here, and bumping ``version`` when a
consumer written for the old shape could misread the new one: ``flask events check`` compares
every declaration with the committed ``docs/asyncapi.yaml`` and fails on a field removed,
retyped or newly required without a bump. Every event that concerns a patient carries
``patient_id``: the timeline subscribes to ``*``. ``typing_extensions.TypedDict`` (pydantic
needs it on Python 3.11) and no ``from __future__ import annotations`` here.
"""

from collections.abc import Mapping
from typing import Any, Literal, NotRequired

from pydantic import TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict

from app.core.validation import STRICT, IsoDateTime, first_error

from .exceptions import PayloadSchemaError
from .shapes import ShapeWalk, compile_shape
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
    "PayloadSpec",
    "check_declared_payload",
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


@with_config(STRICT)
class PatientCreated(TypedDict):
    """A patient was registered. Contact fields let consumers greet them without a lookup."""

    patient_id: str
    clinic_id: str
    full_name: NotRequired[str]
    email: NotRequired[str | None]
    phone: NotRequired[str | None]


@with_config(STRICT)
class PatientUpdated(TypedDict):
    """A patient's details changed; ``changed`` names the fields, the rest is the new contact."""

    patient_id: str
    clinic_id: str
    changed: list[str]
    full_name: str
    email: str | None
    phone: str | None


@with_config(STRICT)
class PatientArchived(TypedDict):
    """A patient was archived: no new appointments or invoices for them."""

    patient_id: str
    clinic_id: str


@with_config(STRICT)
class AppointmentScheduled(TypedDict):
    """An appointment was booked."""

    appointment_id: str
    patient_id: str
    starts_at: IsoDateTime
    duration_minutes: int


@with_config(STRICT)
class AppointmentRescheduled(TypedDict):
    """An appointment moved to a new time."""

    appointment_id: str
    patient_id: str
    starts_at: IsoDateTime
    previous_starts_at: IsoDateTime
    duration_minutes: int


@with_config(STRICT)
class AppointmentCancelled(TypedDict):
    """An appointment was cancelled, with an optional reason."""

    appointment_id: str
    patient_id: str
    starts_at: IsoDateTime
    reason: str | None


@with_config(STRICT)
class AppointmentCompleted(TypedDict):
    """An appointment took place."""

    appointment_id: str
    patient_id: str


@with_config(STRICT)
class InvoiceIssued(TypedDict):
    """An invoice was issued; amounts are integers in the currency's minor unit (cents)."""

    invoice_id: str
    patient_id: str
    currency: str
    total_cents: int
    line_count: int


@with_config(STRICT)
class InvoicePaymentRecorded(TypedDict):
    """A payment (possibly partial) was recorded against an invoice."""

    invoice_id: str
    patient_id: str
    payment_id: str
    currency: str
    amount_cents: int
    balance_cents: int


@with_config(STRICT)
class InvoicePaid(TypedDict):
    """An invoice is fully paid; ``amount_cents`` is its total."""

    invoice_id: str
    patient_id: str
    currency: str
    amount_cents: int


@with_config(STRICT)
class NotificationSent(TypedDict):
    """A message was handed to the sender."""

    notification_id: str
    patient_id: str
    kind: NotificationKind
    channel: NotificationChannel


class PayloadSpec:
    """The declared payload of one event: its ``TypedDict`` shape and its version (>= 1).

    ``check(payload)`` raises ``ValidationError`` unless the payload fits; ``json_schema()``
    is the payload's JSON Schema (draft 2020-12, as OpenAPI 3.1 and AsyncAPI 3 embed it).
    ``walk`` is the shape compiled from the same schema into one cheap pass
    (:mod:`~app.core.events.shapes`), ``None`` if it has parts that pass does not know.
    Not meant to change once built; thread safe: the compiled adapter is immutable.
    """

    __slots__ = ("_adapter", "shape", "version", "walk")

    def __init__(self, shape: type[Any], version: int = 1) -> None:
        if version < 1:
            raise ValueError(f"{shape.__name__}: version must be >= 1, got {version}")
        self.shape = shape
        self.version = version
        self._adapter: TypeAdapter[Any] = TypeAdapter(shape)
        self.walk: ShapeWalk | None = compile_shape(self._adapter.core_schema)

    def __repr__(self) -> str:
        return f"PayloadSpec({self.shape.__name__}, version={self.version})"

    @property
    def description(self) -> str:
        """The shape's docstring on one line."""
        return " ".join((self.shape.__doc__ or "").split())

    def check(self, payload: Mapping[str, Any]) -> None:
        """Validate ``payload`` (the payload itself is left untouched)."""
        self._adapter.validate_python(payload)

    def json_schema(self, ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
        """The payload's JSON Schema; nested shapes under ``$defs``, referenced through
        ``ref_template`` (AsyncAPI wants them under ``#/components/schemas``)."""
        schema: dict[str, Any] = self._adapter.json_schema(ref_template=ref_template)
        return schema


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

    The message names the event, the version and the first field in error (never its value).
    Names without a declaration (possible only with ``EVENTBUS_STRICT`` off) are not checked.
    """
    spec = DECLARED_PAYLOADS.get(event_type)
    if spec is None:
        return
    try:
        spec.check(payload)
    except ValidationError as exc:
        where, problem = first_error(exc)
        raise PayloadSchemaError(
            f"{event_type} payload (v{spec.version}, {spec.shape.__name__}): field {where!r} "
            f"{problem}; the declaration is in app/core/events/payloads.py"
        ) from None


def declared_version(event_type: str) -> int:
    """The declared payload version of ``event_type`` (1 when it has no declaration)."""
    spec = DECLARED_PAYLOADS.get(event_type)
    return spec.version if spec is not None else 1
