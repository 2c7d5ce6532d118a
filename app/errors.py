"""JSON error responses: every HTTP error has a body ``{"error": {"code", "message", ...}}``."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from app.log import get_logger

__all__ = ["ApiError", "register_error_handlers"]


class ApiError(Exception):
    """An error a view raises to answer ``status`` with a JSON body.

    ``fields`` maps field names to messages for 400 validation errors.
    """

    def __init__(
        self, status: int, code: str, message: str, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}

    def body(self) -> dict[str, Any]:
        """The JSON body of the response."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}


def register_error_handlers(app: Flask) -> None:
    """Answer :class:`ApiError`, HTTP errors and unexpected errors with JSON bodies."""
    log: Any = get_logger("app.errors")

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> tuple[Response, int]:
        return jsonify(exc.body()), exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[Response, int]:
        code = (exc.name or "error").lower().replace(" ", "_")
        body = ApiError(exc.code or 500, code, exc.description or code).body()
        return jsonify(body), exc.code or 500

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[Response, int]:
        log.error("request.failed", exc_info=exc)
        return jsonify(ApiError(500, "internal_error", "internal server error").body()), 500
