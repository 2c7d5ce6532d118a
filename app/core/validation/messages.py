"""Per-field messages from a pydantic ``ValidationError``, in the words clients already read.

``{"full_name": "is required", "lines[0].quantity": "must be greater than zero"}``: one entry
per field (the first error of each), the path written as the client wrote the JSON. Custom
checks (:mod:`.types`) carry their own message; pydantic's built-in checks are translated
here by error type and context. Input values are never echoed back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from .types import EMAIL_PATTERN, ID_PATTERN

__all__ = ["field_errors", "first_error"]

_PATTERN_MESSAGES = {
    ID_PATTERN: "must be an id (32 hexadecimal characters)",
    EMAIL_PATTERN: "must be an e-mail address",
}
_TYPE_MESSAGES = {
    "string_type": "must be a string",
    "string_unicode": "must be valid Unicode text",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "typed_dict_type": "must be an object",
    "date_type": "must be a date string, YYYY-MM-DD",
    "datetime_type": "must be a date-time string, e.g. 2030-01-15T09:30:00Z",
    "missing": "is required",
    "extra_forbidden": "is not a known field",
}


def _at_least(ctx: Mapping[str, Any], value: Any) -> str:
    minimum = ctx.get("ge", ctx.get("gt"))
    # ``value`` is the input: a number in a body, the text in a query string.
    negative = value.strip().startswith("-") if isinstance(value, str) else value < 0
    if minimum == 0 or (negative and minimum > 0):
        return "must not be negative"
    return "must be greater than zero" if minimum == 1 else f"must be at least {minimum}"


def _length(ctx: Mapping[str, Any], unit: str) -> str:
    minimum = ctx.get("min_length")
    if minimum == 1:
        return "must not be empty"
    return f"must be at least {minimum} {unit}"


_CONTEXT_MESSAGES: dict[str, Callable[[Mapping[str, Any], Any], str]] = {
    "greater_than_equal": _at_least,
    "greater_than": _at_least,
    "less_than_equal": lambda ctx, _: f"must be at most {ctx.get('le')}",
    "less_than": lambda ctx, _: f"must be less than {ctx.get('lt')}",
    "string_too_short": lambda ctx, _: _length(ctx, "characters"),
    "string_too_long": lambda ctx, _: f"must be at most {ctx.get('max_length')} characters",
    "too_short": lambda ctx, _: _length(ctx, "items"),
    "too_long": lambda ctx, _: f"must have at most {ctx.get('max_length')} items",
    "string_pattern_mismatch": lambda ctx, _: _PATTERN_MESSAGES.get(
        str(ctx.get("pattern")), "has the wrong format"
    ),
    "literal_error": lambda ctx, _: (
        "must be one of: " + ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
    ),
    "enum": lambda ctx, _: (
        "must be one of: " + ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
    ),
}


def message(error: ErrorDetails) -> str:
    """The client-facing message of one pydantic error."""
    kind = error["type"]
    if error.get("input", ...) is None and kind.endswith("_type"):
        return "must not be null"
    if kind in _TYPE_MESSAGES:
        return _TYPE_MESSAGES[kind]
    if kind in _CONTEXT_MESSAGES:
        return _CONTEXT_MESSAGES[kind](error.get("ctx", {}), error.get("input"))
    return error["msg"]


def path(location: tuple[int | str, ...]) -> str:
    """``("lines", 0, "quantity")`` → ``"lines[0].quantity"``."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def field_errors(exc: ValidationError) -> dict[str, str]:
    """``{path: message}``, the first error of each field, in the order pydantic found them."""
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False, include_context=True, include_input=True):
        errors.setdefault(path(error["loc"]) or "body", message(error))
    return errors


def first_error(exc: ValidationError) -> tuple[str, str]:
    """``(path, message)`` of the first error (for one-line messages such as the bus's)."""
    return next(iter(field_errors(exc).items()))
