"""The patients API's bodies: what it accepts (validated) and what it answers (documented)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.core.validation import Email, PastDate, StrictModel, Text, bounded_int

__all__ = ["CreatePatient", "PatientList", "PatientListQuery", "PatientOut", "UpdatePatient"]

_PHONE = r"^\+?[0-9][0-9 ()-]{4,30}$"
Phone = Text(max_length=32, pattern=_PHONE)
ClinicId = Text(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


class CreatePatient(StrictModel):
    """A patient to register."""

    full_name: Text(max_length=200)  # type: ignore[valid-type]
    date_of_birth: PastDate | None = None
    email: Email | None = None
    phone: Phone | None = None  # type: ignore[valid-type]
    clinic_id: ClinicId = None  # type: ignore[valid-type]


class UpdatePatient(StrictModel):
    """The contact fields to change; absent fields are left as they are."""

    full_name: Text(max_length=200) = None  # type: ignore[valid-type]
    date_of_birth: PastDate | None = None
    email: Email | None = None
    phone: Phone | None = None  # type: ignore[valid-type]


class PatientListQuery(BaseModel):
    """``?page=1&per_page=20&status=active|archived``."""

    page: bounded_int(1, 1_000_000) = 1  # type: ignore[valid-type]
    per_page: bounded_int(1, 100) = 20  # type: ignore[valid-type]
    status: Literal["active", "archived"] | None = None


class PatientOut(BaseModel):
    """A patient as the API returns it."""

    id: str
    clinic_id: str
    full_name: str
    date_of_birth: str | None = Field(json_schema_extra={"format": "date"})
    email: str | None
    phone: str | None
    status: Literal["active", "archived"]
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    updated_at: str = Field(json_schema_extra={"format": "date-time"})
    archived_at: str | None = Field(json_schema_extra={"format": "date-time"})


class PatientList(BaseModel):
    """One page of patients, oldest first, and the total count."""

    items: list[PatientOut]
    page: int
    per_page: int
    total: int
