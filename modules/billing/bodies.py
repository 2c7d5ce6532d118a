"""The billing API's bodies (amounts in cents, as integers): accepted and answered."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.core.validation import Id, StrictModel, Text, bounded_int

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


class InvoiceLineIn(StrictModel):
    """One line of an invoice to issue (``quantity`` defaults to 1)."""

    description: Text(max_length=200)  # type: ignore[valid-type]
    quantity: bounded_int(1, 10_000) = None  # type: ignore[valid-type]
    unit_price_cents: bounded_int(0, MAX_CENTS)  # type: ignore[valid-type]


class IssueInvoice(StrictModel):
    """An invoice to issue (``currency`` defaults to EUR); its total must be above zero."""

    patient_id: Id
    currency: Text(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$") = None  # type: ignore[valid-type]
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=100)


class RecordPayment(StrictModel):
    """A payment against an invoice (``method`` defaults to card)."""

    amount_cents: bounded_int(1, MAX_CENTS)  # type: ignore[valid-type]
    method: Method = None  # type: ignore[assignment]


class InvoiceListQuery(BaseModel):
    """``?patient_id=...&limit=100``."""

    patient_id: Id | None = None
    limit: bounded_int(1, 1000) = 100  # type: ignore[valid-type]


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
