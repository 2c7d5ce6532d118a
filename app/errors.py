"""JSON error responses: every HTTP error has a body ``{"error": {"code", "message", ...}}``.

No body repeats what the client sent (validation messages name the field and the problem,
never the value). An unexpected error answers 500 ``internal_error`` and is logged as
``request.failed`` redacted as handler errors are (``app.core.events.redaction``): its class,
the method and path (no query string), its message with every string the request carried
replaced (a database error reduced to class, SQLSTATE and constraint), its frames;
``EVENTBUS_LOG_FULL_ERRORS`` logs it whole.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from app.core.events.redaction import log_fields
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
        full = bool(app.config.get("EVENTBUS_LOG_FULL_ERRORS"))
        log: Any = get_logger("app.errors")  # looked up here: it follows a reconfiguration
        log.error(
            "request.failed",
            method=request.method,
            path=request.path,
            **log_fields(exc, _request_values(), full=full),
        )
        return jsonify(ApiError(500, "internal_error", "internal server error").body()), 500


def _request_values() -> list[Any]:
    """What the client sent (JSON body, form, query string, URL parts): the strings a logged
    error message must not repeat (``redaction``)."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: no body strings to replace
        body = None
    return [
        body,
        list(request.form.values()),
        list(request.args.values()),
        list((request.view_args or {}).values()),
    ]
