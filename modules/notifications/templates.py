"""The text of each kind of message, rendered when the message is sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["render"]

_TEMPLATES: dict[str, tuple[str, str]] = {
    "welcome": (
        "Welcome to the clinic",
        "{greeting}, welcome to the clinic. We look forward to seeing you.",
    ),
    "appointment_scheduled": (
        "Your appointment is booked",
        "{greeting}, your appointment is booked for {starts_at} ({duration_minutes} minutes).",
    ),
    "appointment_rescheduled": (
        "Your appointment has moved",
        "{greeting}, your appointment on {previous_starts_at} has moved to {starts_at}.",
    ),
    "appointment_cancelled": (
        "Your appointment is cancelled",
        "{greeting}, your appointment on {starts_at} is cancelled.",
    ),
    "payment_receipt": (
        "Payment receipt",
        "{greeting}, we received {amount} for invoice {invoice_id}. Thank you.",
    ),
}


def render(kind: str, full_name: str | None, context: dict[str, Any]) -> tuple[str, str]:
    """``(subject, body)`` of a ``kind`` message; raises ``KeyError`` for an unknown kind."""
    subject, body = _TEMPLATES[kind]
    values = {key: _readable(key, value) for key, value in context.items()}
    values["greeting"] = f"Hello {full_name}" if full_name else "Hello"
    if "amount_cents" in context:
        cents = int(context["amount_cents"])
        values["amount"] = f"{cents // 100}.{cents % 100:02d} {context.get('currency', '')}".strip()
    return subject, body.format_map(_Blank(values))


def _readable(key: str, value: Any) -> Any:
    if key.endswith("_at") and isinstance(value, str):
        try:
            return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")
        except ValueError:
            return value
    return value


class _Blank(dict[str, Any]):
    """A missing placeholder renders empty rather than raising."""

    def __missing__(self, key: str) -> str:
        return ""
