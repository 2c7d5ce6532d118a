"""Request bodies the appointments API accepts."""

from __future__ import annotations

from app.core.http import BodySchema, DateTime, Id, Integer, Text

__all__ = ["CANCEL", "RESCHEDULE", "SCHEDULE"]

DEFAULT_DURATION = 30
_DURATION = {"minimum": 5, "maximum": 480}

SCHEDULE = BodySchema(
    patient_id=Id(),
    starts_at=DateTime(future_only=True),
    duration_minutes=Integer(**_DURATION, required=False),
    reason=Text(max_length=500, required=False, nullable=True),
)

RESCHEDULE = BodySchema(
    starts_at=DateTime(future_only=True),
    duration_minutes=Integer(**_DURATION, required=False),
)

CANCEL = BodySchema(reason=Text(max_length=500, required=False, nullable=True))
