"""The one validation vocabulary of the project: pydantic v2 types for HTTP bodies and events.

Request bodies (``modules/*/bodies.py``) and event payloads (``app/core/events/payloads.py``)
are ``TypedDict`` classes configured :data:`STRICT` and validated through a pydantic
``TypeAdapter``, so mypy checks what a view receives and what a publisher builds. Both use the
annotated types of :mod:`.types` (``Text``, ``Id``, ``Email``, ``IsoDateTime``...), so a
field means the same thing in a request and in an event, and both produce JSON Schema
(OpenAPI for the HTTP API, AsyncAPI for the events) from one declaration.
:func:`field_errors` turns a ``ValidationError`` into the per-field messages clients read.
"""

from .messages import field_errors, first_error
from .types import (
    EMAIL_PATTERN,
    ID_PATTERN,
    STRICT,
    Email,
    FutureInstant,
    Id,
    IsoDate,
    IsoDateTime,
    PastDate,
    Range,
    Text,
    is_id,
)

__all__ = [
    "EMAIL_PATTERN",
    "ID_PATTERN",
    "STRICT",
    "Email",
    "FutureInstant",
    "Id",
    "IsoDate",
    "IsoDateTime",
    "PastDate",
    "Range",
    "Text",
    "field_errors",
    "first_error",
    "is_id",
]
