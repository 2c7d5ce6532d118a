"""Billing: issue invoices, record (partial) payments. Each write publishes after its commit.

Every write is one unit of work (``with write_transaction():``) whose first read locks what
it reads (``get_invoice(..., for_update=True)``): concurrent payments of one invoice run one
after the other on every database, so each sees the balance the previous one left and the
one that settles it is the only one that publishes ``invoice.paid``.

Issuing reads the patient synchronously through ``modules.patients``'s public API (this module
depends on patients): unknown patient 404, archived patient 409.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.events import EventType
from app.core.events.payloads import InvoiceIssued, InvoicePaid, InvoicePaymentRecorded
from app.core.http import conflict, invalid, not_found
from app.core.persistence import (
    get_or_404,
    new_id,
    publish_after_commit,
    utcnow,
    write_transaction,
)
from app.db import db
from modules.patients import find_patient

from .models import ISSUED, PAID, PARTIALLY_PAID, Invoice, InvoiceLine, Payment

__all__ = ["get_invoice", "issue_invoice", "list_invoices", "record_payment"]

DEFAULT_CURRENCY = "EUR"


def issue_invoice(data: dict[str, Any]) -> Invoice:
    """Issue an invoice with its lines; publishes ``invoice.issued``. 400 if it totals zero."""
    with write_transaction():
        patient = find_patient(data["patient_id"])
        if patient is None:
            raise not_found("patient")
        if patient.archived:
            raise conflict("patient_archived", "the patient is archived")
        lines = [
            InvoiceLine(
                id=new_id(),
                position=index,
                description=line["description"],
                quantity=line.get("quantity", 1),
                unit_price_cents=line["unit_price_cents"],
            )
            for index, line in enumerate(data["lines"])
        ]
        total = sum(line.amount_cents for line in lines)
        if total <= 0:
            raise invalid({"lines": "the invoice total must be greater than zero"})
        invoice = Invoice(
            id=new_id(),
            patient_id=patient.id,
            currency=data.get("currency") or DEFAULT_CURRENCY,
            total_cents=total,
            paid_cents=0,
            status=ISSUED,
            lines=lines,
        )
        db.session.add(invoice)
        payload: InvoiceIssued = {
            "invoice_id": invoice.id,
            "patient_id": invoice.patient_id,
            "currency": invoice.currency,
            "total_cents": total,
            "line_count": len(lines),
        }
        publish_after_commit(EventType.INVOICE_ISSUED, payload)
    return invoice


def record_payment(invoice_id: str, amount_cents: int, method: str) -> tuple[Invoice, Payment]:
    """Record a payment; publishes ``invoice.payment_recorded`` and, once the balance reaches
    zero, ``invoice.paid``. 409 ``invoice_paid`` when nothing is owed, 409 ``overpayment``
    when the amount exceeds the balance."""
    with write_transaction():
        invoice = get_invoice(invoice_id, for_update=True)
        if invoice.status == PAID:
            raise conflict("invoice_paid", "the invoice is already paid")
        if amount_cents > invoice.balance_cents:
            raise conflict(
                "overpayment",
                f"the payment of {amount_cents} exceeds the balance of {invoice.balance_cents} "
                f"({invoice.currency} cents)",
            )
        now = utcnow()
        payment = Payment(id=new_id(), amount_cents=amount_cents, method=method, paid_at=now)
        invoice.payments.append(payment)
        invoice.paid_cents += amount_cents
        invoice.status = PAID if invoice.balance_cents == 0 else PARTIALLY_PAID
        recorded: InvoicePaymentRecorded = {
            "invoice_id": invoice.id,
            "patient_id": invoice.patient_id,
            "payment_id": payment.id,
            "currency": invoice.currency,
            "amount_cents": amount_cents,
            "balance_cents": invoice.balance_cents,
        }
        publish_after_commit(EventType.INVOICE_PAYMENT_RECORDED, recorded)
        if invoice.status == PAID:
            invoice.paid_at = now
            paid: InvoicePaid = {
                "invoice_id": invoice.id,
                "patient_id": invoice.patient_id,
                "currency": invoice.currency,
                "amount_cents": invoice.total_cents,
            }
            publish_after_commit(EventType.INVOICE_PAID, paid)
    return invoice, payment


def get_invoice(invoice_id: str, *, for_update: bool = False) -> Invoice:
    """The invoice, or 404 ``invoice_not_found``."""
    return get_or_404(Invoice, invoice_id, "invoice", for_update=for_update)


def list_invoices(patient_id: str | None, limit: int) -> list[Invoice]:
    """Invoices, newest first, optionally of one patient."""
    query = select(Invoice).order_by(Invoice.issued_at.desc(), Invoice.id).limit(limit)
    if patient_id is not None:
        query = query.where(Invoice.patient_id == patient_id)
    return list(db.session.scalars(query).all())
