"""Request bodies the patients API accepts."""

from __future__ import annotations

from app.core.http import BodySchema, Date, Email, Text

__all__ = ["CREATE_PATIENT", "UPDATE_PATIENT"]

_PHONE = r"\+?[0-9][0-9 ()-]{4,30}"

CREATE_PATIENT = BodySchema(
    full_name=Text(max_length=200),
    date_of_birth=Date(past_only=True, required=False, nullable=True),
    email=Email(required=False, nullable=True),
    phone=Text(max_length=32, pattern=_PHONE, required=False, nullable=True),
    clinic_id=Text(max_length=64, pattern=r"[A-Za-z0-9_.-]+", required=False),
)

UPDATE_PATIENT = BodySchema(
    full_name=Text(max_length=200, required=False),
    date_of_birth=Date(past_only=True, required=False, nullable=True),
    email=Email(required=False, nullable=True),
    phone=Text(max_length=32, pattern=_PHONE, required=False, nullable=True),
)
