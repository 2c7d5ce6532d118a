"""Request bodies the billing API accepts (amounts in cents, as integers)."""

from __future__ import annotations

from app.core.http import BodySchema, Choice, Id, Integer, ListOf, Text

__all__ = ["ISSUE_INVOICE", "METHODS", "RECORD_PAYMENT"]

METHODS = ("card", "cash", "transfer")
MAX_CENTS = 10**11

LINE = BodySchema(
    description=Text(max_length=200),
    quantity=Integer(minimum=1, maximum=10_000, required=False),
    unit_price_cents=Integer(minimum=0, maximum=MAX_CENTS),
)

ISSUE_INVOICE = BodySchema(
    patient_id=Id(),
    currency=Text(min_length=3, max_length=3, pattern=r"[A-Z]{3}", required=False),
    lines=ListOf(LINE, min_items=1, max_items=100),
)

RECORD_PAYMENT = BodySchema(
    amount_cents=Integer(minimum=1, maximum=MAX_CENTS),
    method=Choice(METHODS, required=False),
)
