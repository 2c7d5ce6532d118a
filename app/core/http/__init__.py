"""HTTP helpers for module views: ``@operation`` (validated bodies and query strings, and the
declaration the OpenAPI document is generated from), path ids, the domain errors.

Bad input becomes an :class:`app.errors.ApiError` (400 with per-field messages, 404, 415),
never a 500. See :mod:`app.core.http.body` for the error shapes and
:mod:`app.core.http.openapi` for the document served at ``/openapi.json``.
"""

from .body import invalid, json_body, load_body, load_query
from .errors import conflict, not_found
from .operation import Operation, operation, operation_of
from .params import require_id
from .responses import ErrorBody

__all__ = [
    "ErrorBody",
    "Operation",
    "conflict",
    "invalid",
    "json_body",
    "load_body",
    "load_query",
    "not_found",
    "operation",
    "operation_of",
    "require_id",
]
