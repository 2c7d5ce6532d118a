"""The billing API's bodies (amounts in cents, as integers): accepted and answered."""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired

from pydantic import BaseModel, Field, with_config
from typing_extensions import TypedDict

from app.core.validation import STRICT, Id, Range, Text

__all__ = [
    "METHODS",
    "InvoiceLineIn",
    "InvoiceList",
    "InvoiceListQuery",
    "InvoiceOut",
    "IssueInvoice",
    "PaymentOut",
    "PaymentRecorded",
    "RecordPayment",
]

METHODS = ("card", "cash", "transfer")
MAX_CENTS = 10**11
Method = Literal["card", "cash", "transfer"]


Currency = Annotated[str, Text(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$")]


@with_config(STRICT)
class InvoiceLineIn(TypedDict):
    """One line of an invoice to issue (``quantity`` defaults to 1)."""

    description: Annotated[str, Text(max_length=200)]
    quantity: NotRequired[Annotated[int, Range(1, 10_000)]]
    unit_price_cents: Annotated[int, Range(0, MAX_CENTS)]


@with_config(STRICT)
class IssueInvoice(TypedDict):
    """An invoice to issue (``currency`` defaults to EUR); its total must be above zero."""

    patient_id: Id
    currency: NotRequired[Currency]
    lines: Annotated[list[InvoiceLineIn], Field(min_length=1, max_length=100)]


@with_config(STRICT)
class RecordPayment(TypedDict):
    """A payment against an invoice (``method`` defaults to card)."""

    amount_cents: Annotated[int, Range(1, MAX_CENTS)]
    method: NotRequired[Method]


class InvoiceListQuery(BaseModel):
    """``?patient_id=...&limit=100``."""

    patient_id: Id | None = None
    limit: Annotated[int, Range(1, 1000)] = 100


class InvoiceLineOut(BaseModel):
    """A line as the API returns it."""

    description: str
    quantity: int
    unit_price_cents: int
    amount_cents: int


class PaymentOut(BaseModel):
    """A payment as the API returns it."""

    id: str
    amount_cents: int
    method: Method
    paid_at: str = Field(json_schema_extra={"format": "date-time"})


class InvoiceOut(BaseModel):
    """An invoice, with its lines and payments, as the API returns it."""

    id: str
    patient_id: str
    currency: str
    total_cents: int
    paid_cents: int
    balance_cents: int
    status: Literal["issued", "partially_paid", "paid"]
    issued_at: str = Field(json_schema_extra={"format": "date-time"})
    paid_at: str | None = Field(json_schema_extra={"format": "date-time"})
    lines: list[InvoiceLineOut]
    payments: list[PaymentOut]


class InvoiceList(BaseModel):
    """Invoices, newest first."""

    items: list[InvoiceOut]


class PaymentRecorded(BaseModel):
    """The payment recorded and the invoice after it."""

    payment: PaymentOut
    invoice: InvoiceOut
