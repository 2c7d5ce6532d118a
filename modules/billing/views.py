"""The billing HTTP API (JSON): ``/invoices``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from app.core.http import operation, require_id

from . import service
from .bodies import (
    InvoiceList,
    InvoiceListQuery,
    InvoiceOut,
    IssueInvoice,
    PaymentRecorded,
    RecordPayment,
)

__all__ = ["blueprint"]

blueprint = Blueprint("billing", __name__, url_prefix="/invoices")
Response = tuple[dict[str, Any], int]


@blueprint.post("")
@operation(body=IssueInvoice, responses={201: InvoiceOut}, errors=(404, 409))
def issue(body: dict[str, Any]) -> Response:
    """Issue an invoice: 201; 404 unknown patient; 409 archived patient."""
    return service.issue_invoice(body).to_dict(), 201


@blueprint.get("")
@operation(query=InvoiceListQuery, responses={200: InvoiceList})
def index(query: InvoiceListQuery) -> Response:
    """Invoices, newest first: ``?patient_id=...&limit=100``."""
    items = service.list_invoices(query.patient_id, query.limit)
    return {"items": [invoice.to_dict() for invoice in items]}, 200


@blueprint.get("/<invoice_id>")
@operation(responses={200: InvoiceOut})
def show(invoice_id: str) -> Response:
    """One invoice with its lines and payments, or 404."""
    return service.get_invoice(require_id(invoice_id, "invoice")).to_dict(), 200


@blueprint.post("/<invoice_id>/payments")
@operation(body=RecordPayment, responses={201: PaymentRecorded}, errors=(409,))
def pay(invoice_id: str, body: dict[str, Any]) -> Response:
    """Record a payment: 201 with the payment and the invoice; 409 if paid or overpaying."""
    require_id(invoice_id, "invoice")
    invoice, payment = service.record_payment(
        invoice_id, body["amount_cents"], body.get("method", "card")
    )
    return {"payment": payment.to_dict(), "invoice": invoice.to_dict()}, 201
