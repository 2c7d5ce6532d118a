"""The billing HTTP API (JSON): ``/invoices``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from app.core.http import json_body, query_id, query_int, require_id

from . import service
from .bodies import ISSUE_INVOICE, RECORD_PAYMENT

__all__ = ["blueprint"]

blueprint = Blueprint("billing", __name__, url_prefix="/invoices")
Response = tuple[dict[str, Any], int]


@blueprint.post("")
def issue() -> Response:
    """Issue an invoice: 201; 404 unknown patient; 409 archived patient."""
    return service.issue_invoice(ISSUE_INVOICE.load(json_body())).to_dict(), 201


@blueprint.get("")
def index() -> Response:
    """Invoices, newest first: ``?patient_id=...&limit=100``."""
    items = service.list_invoices(query_id("patient_id"), query_int("limit", 100))
    return {"items": [invoice.to_dict() for invoice in items]}, 200


@blueprint.get("/<invoice_id>")
def show(invoice_id: str) -> Response:
    """One invoice with its lines and payments, or 404."""
    return service.get_invoice(require_id(invoice_id, "invoice")).to_dict(), 200


@blueprint.post("/<invoice_id>/payments")
def pay(invoice_id: str) -> Response:
    """Record a payment: 201 with the payment and the invoice; 409 if paid or overpaying."""
    require_id(invoice_id, "invoice")
    data = RECORD_PAYMENT.load(json_body())
    invoice, payment = service.record_payment(
        invoice_id, data["amount_cents"], data.get("method", "card")
    )
    return {"payment": payment.to_dict(), "invoice": invoice.to_dict()}, 201
