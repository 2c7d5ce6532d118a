"""The documented shape of every error response: ``{"error": {"code", "message", "fields"?}}``."""

from __future__ import annotations

from pydantic import BaseModel

__all__ = ["ErrorBody", "ErrorDetail"]


class ErrorDetail(BaseModel):
    """``code`` is stable and machine-readable; ``fields`` maps field paths to messages (400)."""

    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorBody(BaseModel):
    """The body of every 4xx and 5xx response."""

    error: ErrorDetail
