"""The timeline API's bodies (read only): what it answers (documented)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel

from app.core.validation import Range

__all__ = ["EntryOut", "Timeline", "TimelineQuery"]


class TimelineQuery(BaseModel):
    """``?limit=200&offset=0``."""

    limit: Annotated[int, Range(1, 1000)] = 200
    offset: Annotated[int, Range(0, 10_000_000)] = 0


class EntryOut(BaseModel):
    """One event on the timeline: its envelope fields, a summary and its payload."""

    seq: int
    event_id: str
    event_type: str
    occurred_at: str
    producer: str | None
    correlation_id: str | None
    causation_id: str | None
    summary: str
    data: dict[str, Any]


class Timeline(BaseModel):
    """A patient's events in the order they occurred."""

    patient_id: str
    entries: list[EntryOut]
