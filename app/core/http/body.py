"""JSON request bodies: read them (415 / 400) and check them field by field (400 with fields).

Every error is an :class:`app.errors.ApiError`, answered as
``{"error": {"code", "message", "fields"?}}``; bad input never reaches the database, so it
never becomes a 500::

    PATIENT = BodySchema(full_name=Text(), email=Email(required=False, nullable=True))
    data = PATIENT.load(json_body())           # {"full_name": "Ada", ...} or ApiError(400)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import request

from app.errors import ApiError

from .fields import Field, FieldError, ListOf

__all__ = ["BodySchema", "invalid", "json_body"]


def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object.

    415 ``unsupported_media_type`` unless the body is sent as ``application/json``; 400
    ``malformed_json`` when it does not parse (NaN and Infinity included); 400
    ``invalid_request`` when it is not an object. ``optional``: an empty body reads as ``{}``.
    """
    raw = request.get_data(cache=True)
    if optional and not raw.strip():
        return {}
    if not request.is_json:
        raise ApiError(
            415,
            "unsupported_media_type",
            "send a JSON body with the header Content-Type: application/json",
        )
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise ApiError(400, "malformed_json", "the request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_request", "the request body must be a JSON object")
    return value


def invalid(fields: Mapping[str, str], message: str = "the request has invalid fields") -> ApiError:
    """A 400 ``invalid_request`` error carrying per-field messages."""
    return ApiError(400, "invalid_request", message, dict(fields))


class BodySchema:
    """The fields a JSON object may carry. :meth:`load` checks every field and reports all."""

    def __init__(self, **fields: Field) -> None:
        self.fields = fields

    def load(self, data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """The converted values of the fields present, or ``ApiError(400)`` listing every error.

        Errors: a field not declared (``"is not a known field"``), a required field missing
        (``"is required"``, not with ``partial``, for updates), ``null`` where not nullable,
        and each field's own type and range checks. Absent optional fields are left out.
        """
        values, errors = self._load(data, "", partial)
        if errors:
            raise invalid(errors)
        return values

    def _load(
        self, data: Mapping[str, Any], prefix: str, partial: bool
    ) -> tuple[dict[str, Any], dict[str, str]]:
        values: dict[str, Any] = {}
        errors: dict[str, str] = {
            f"{prefix}{key}": "is not a known field" for key in data if key not in self.fields
        }
        for name, spec in self.fields.items():
            path = f"{prefix}{name}"
            if name not in data:
                if spec.required and not partial:
                    errors[path] = "is required"
                continue
            value = data[name]
            if value is None:
                if spec.nullable:
                    values[name] = None
                else:
                    errors[path] = "must not be null"
                continue
            try:
                values[name] = spec.parse(value)
            except FieldError as exc:
                errors[path] = str(exc)
                continue
            if isinstance(spec, ListOf):
                values[name] = self._load_items(spec, values[name], path, errors)
        return values, errors

    @staticmethod
    def _load_items(
        spec: ListOf, items: list[Any], path: str, errors: dict[str, str]
    ) -> list[dict[str, Any]]:
        loaded: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            where = f"{path}[{index}]"
            if not isinstance(item, dict):
                errors[where] = "must be an object"
                continue
            value, item_errors = spec.schema._load(item, f"{where}.", False)
            errors.update(item_errors)
            loaded.append(value)
        return loaded


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
