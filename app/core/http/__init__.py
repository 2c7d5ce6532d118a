"""HTTP helpers for module views: JSON bodies checked field by field, query and path params.

Bad input becomes an :class:`app.errors.ApiError` (400 with per-field messages, 404, 415),
never a 500. See :mod:`app.core.http.body` for the error shapes.
"""

from .body import BodySchema, invalid, json_body
from .errors import conflict, not_found
from .fields import (
    Boolean,
    Choice,
    Date,
    DateTime,
    Email,
    Field,
    FieldError,
    Id,
    Integer,
    ListOf,
    Text,
)
from .params import query_id, query_int, require_id

__all__ = [
    "BodySchema",
    "Boolean",
    "Choice",
    "Date",
    "DateTime",
    "Email",
    "Field",
    "FieldError",
    "Id",
    "Integer",
    "ListOf",
    "Text",
    "conflict",
    "invalid",
    "json_body",
    "not_found",
    "query_id",
    "query_int",
    "require_id",
]
