"""The patients API's bodies: what it accepts (validated) and what it answers (documented)."""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired

from pydantic import BaseModel, Field, with_config
from typing_extensions import TypedDict

from app.core.validation import STRICT, Email, PastDate, Range, Text

__all__ = ["CreatePatient", "PatientList", "PatientListQuery", "PatientOut", "UpdatePatient"]

FullName = Annotated[str, Text(max_length=200)]
Phone = Annotated[str, Text(max_length=32, pattern=r"^\+?[0-9][0-9 ()-]{4,30}$")]
ClinicId = Annotated[str, Text(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


@with_config(STRICT)
class CreatePatient(TypedDict):
    """A patient to register (``clinic_id`` defaults to ``main``)."""

    full_name: FullName
    date_of_birth: NotRequired[PastDate | None]
    email: NotRequired[Email | None]
    phone: NotRequired[Phone | None]
    clinic_id: NotRequired[ClinicId]


@with_config(STRICT)
class UpdatePatient(TypedDict, total=False):
    """The contact fields to change; absent fields are left as they are."""

    full_name: FullName
    date_of_birth: PastDate | None
    email: Email | None
    phone: Phone | None


class PatientListQuery(BaseModel):
    """``?page=1&per_page=20&status=active|archived``."""

    page: Annotated[int, Range(1, 1_000_000)] = 1
    per_page: Annotated[int, Range(1, 100)] = 20
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
