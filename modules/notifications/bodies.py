"""The notifications API's bodies (read only): what it answers (documented)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from app.core.validation import Range

__all__ = ["MessageList", "MessageListQuery", "MessageOut"]


class MessageListQuery(BaseModel):
    """``?limit=100``."""

    limit: Annotated[int, Range(1, 1000)] = 100


class MessageOut(BaseModel):
    """A message as the API returns it."""

    id: str
    patient_id: str
    kind: str
    status: str
    channel: str | None
    recipient: str | None
    subject: str | None
    body: str | None
    error: str | None
    source_event_id: str | None
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    sent_at: str | None = Field(json_schema_extra={"format": "date-time"})


class MessageList(BaseModel):
    """A patient's messages, oldest first."""

    patient_id: str
    items: list[MessageOut]
