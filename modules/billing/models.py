"""The billing module's tables: ``billing_invoice``, ``billing_invoice_line``, ``billing_payment``.

Amounts are integers in the currency's minor unit (cents): no float rounding anywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.persistence import UtcDateTime, iso_utc, new_id, utcnow
from app.db import Model

__all__ = ["ISSUED", "PAID", "PARTIALLY_PAID", "Invoice", "InvoiceLine", "Payment"]

ISSUED = "issued"
PARTIALLY_PAID = "partially_paid"
PAID = "paid"


class Invoice(Model):
    """An invoice for a patient (a reference to the patients module, not a foreign key)."""

    __tablename__ = "billing_invoice"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    patient_id: Mapped[str] = mapped_column(String(32), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    total_cents: Mapped[int] = mapped_column(BigInteger)
    paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default=ISSUED)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    lines: Mapped[list[InvoiceLine]] = relationship(
        order_by="InvoiceLine.position", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(
        order_by="Payment.paid_at", cascade="all, delete-orphan"
    )

    @property
    def balance_cents(self) -> int:
        """What is still owed."""
        return self.total_cents - self.paid_cents

    def to_dict(self) -> dict[str, Any]:
        """The invoice, with its lines and payments, as the API returns it."""
        return {
            "id": self.id,
            "patient_id": self.patient_id,
            "currency": self.currency,
            "total_cents": self.total_cents,
            "paid_cents": self.paid_cents,
            "balance_cents": self.balance_cents,
            "status": self.status,
            "issued_at": iso_utc(self.issued_at),
            "paid_at": iso_utc(self.paid_at) if self.paid_at else None,
            "lines": [line.to_dict() for line in self.lines],
            "payments": [payment.to_dict() for payment in self.payments],
        }


class InvoiceLine(Model):
    """One line: ``quantity`` × ``unit_price_cents``."""

    __tablename__ = "billing_invoice_line"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("billing_invoice.id"), index=True)
    position: Mapped[int]
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price_cents: Mapped[int] = mapped_column(BigInteger)

    @property
    def amount_cents(self) -> int:
        """The line's amount."""
        return self.quantity * self.unit_price_cents

    def to_dict(self) -> dict[str, Any]:
        """The line as the API returns it."""
        return {
            "description": self.description,
            "quantity": self.quantity,
            "unit_price_cents": self.unit_price_cents,
            "amount_cents": self.amount_cents,
        }


class Payment(Model):
    """A payment recorded against an invoice."""

    __tablename__ = "billing_payment"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("billing_invoice.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(16))
    paid_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    def to_dict(self) -> dict[str, Any]:
        """The payment as the API returns it."""
        return {
            "id": self.id,
            "amount_cents": self.amount_cents,
            "method": self.method,
            "paid_at": iso_utc(self.paid_at),
        }
