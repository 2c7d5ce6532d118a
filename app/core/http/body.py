"""JSON request bodies: read them (415 / 400) and validate them against a pydantic model (400).

Every error is an :class:`app.errors.ApiError`, answered as
``{"error": {"code", "message", "fields"?}}``; bad input never reaches the database, so it
never becomes a 500::

    data = load_body(CreatePatient, json_body())   # {"full_name": "Ada", ...} or ApiError(400)

Bodies are ``TypedDict`` classes (configured ``STRICT``: see :mod:`app.core.validation`), so
the view receives a dict mypy knows; query strings are pydantic models (lax: ``?page=2``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import request
from pydantic import BaseModel, TypeAdapter, ValidationError

from app.core.validation import field_errors
from app.errors import ApiError

__all__ = ["adapter_for", "invalid", "json_body", "load_body", "load_query"]


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


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def adapter_for(shape: type[Any]) -> TypeAdapter[Any]:
    """The pydantic adapter of a body ``TypedDict`` or a model, built once and kept
    (immutable; two threads racing build it twice, harmlessly)."""
    adapter = _ADAPTERS.get(shape)
    if adapter is None:
        adapter = _ADAPTERS.setdefault(shape, TypeAdapter(shape))
    return adapter


def load_body(shape: type[Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The validated, converted values of ``data`` for the ``TypedDict`` ``shape``, or
    ``ApiError(400)`` listing every field in error. Absent optional fields stay absent
    (updates change only those); converted values: dates, aware UTC datetimes, stripped text."""
    # A key that is not valid Unicode ("\ud800") is no declared field; pydantic would
    # reject the whole object for it, so it is reported apart and the rest still checked.
    broken = {key: "is not a known field" for key in data if not _is_text(key)}
    if broken:
        data = {key: value for key, value in data.items() if key not in broken}
    try:
        values: dict[str, Any] = adapter_for(shape).validate_python(data)
    except ValidationError as exc:
        raise invalid({**field_errors(exc), **broken}) from None
    if broken:
        raise invalid(broken)
    return values


def load_query(model: type[BaseModel]) -> Any:
    """The request's query string validated against ``model`` (text converted: ``?page=2``),
    or ``ApiError(400)`` naming each bad parameter. Unknown parameters are ignored."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise invalid(field_errors(exc), "invalid query parameter") from None


def _is_text(key: object) -> bool:
    try:
        str(key).encode()
    except UnicodeEncodeError:
        return False
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
