"""Billing: issue invoices with lines and record (partial) payments.

Depends on ``patients`` (a synchronous read through ``modules.patients.find_patient``).
Publishes ``invoice.issued``, ``invoice.payment_recorded`` and, when fully paid,
``invoice.paid``.
"""

from __future__ import annotations

from flask import Blueprint

from app.core.modules import BaseModule, Manifest

from .views import blueprint

__all__ = ["BillingModule"]


class BillingModule(BaseModule):
    """The billing module: a JSON API under ``/invoices``; consumes no events."""

    manifest = Manifest(
        name="billing",
        version="1.0.0",
        depends=("patients",),
        description="Invoices with lines, partial payments, paid when the balance is zero.",
    )

    def get_blueprint(self) -> Blueprint:
        return blueprint
