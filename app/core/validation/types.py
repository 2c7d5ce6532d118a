"""Annotated types shared by request bodies and event payloads, and the strict configuration.

Every type is an ordinary ``Annotated`` pydantic type, so it validates and renders as JSON
Schema alike. Values that pass already fit their database column: text is stripped, bounded
and free of control characters and lone surrogates (PostgreSQL rejects NUL), integers are
bounded (``2**53``: exact in JSON everywhere, fits ``BIGINT``), dates parse, instants carry a
UTC offset. Validation is strict: ``"30"`` is not an integer, ``true`` is not ``1``.

Custom checks raise ``PydanticCustomError`` whose message is the one clients read (see
:mod:`.messages` for the messages of pydantic's own checks).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any

from annotated_types import Ge, GroupedMetadata, Le
from pydantic import AfterValidator, BeforeValidator, ConfigDict, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

__all__ = [
    "EMAIL_PATTERN",
    "ID_PATTERN",
    "MAX_INT",
    "STRICT",
    "Email",
    "FutureInstant",
    "Id",
    "IsoDate",
    "IsoDateTime",
    "PastDate",
    "Range",
    "Text",
    "is_id",
]

STRICT = ConfigDict(strict=True, extra="forbid")
"""No coercion, no undeclared field: the configuration of every body and payload
(``@with_config(STRICT)`` on a ``TypedDict``)."""

ID_PATTERN = r"^[0-9a-f]{32}$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
MAX_INT = 2**53
_ID = re.compile(ID_PATTERN)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def is_id(value: object) -> bool:
    """Whether ``value`` has the shape of a row or event id: 32 lowercase hex characters."""
    return isinstance(value, str) and _ID.match(value) is not None


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid_value", message)


def _plain_text(value: str) -> str:
    if _CONTROL.search(value):
        raise _fail("must not contain control characters")
    return value


@dataclass(frozen=True)
class Text(GroupedMetadata):
    """``Annotated[str, Text(...)]``: stripped of surrounding whitespace,
    ``min_length``..``max_length`` long, matching ``pattern`` (anchored) if given."""

    min_length: int = 1
    max_length: int = 200
    pattern: str | None = None

    def __iter__(self) -> Iterator[Any]:
        yield StringConstraints(
            strip_whitespace=True,
            min_length=self.min_length,
            max_length=self.max_length,
            pattern=self.pattern,
        )
        yield AfterValidator(_plain_text)


@dataclass(frozen=True)
class Range(GroupedMetadata):
    """``Annotated[int, Range(...)]``: between ``minimum`` and ``maximum`` included (strict
    validation already refuses booleans and floats)."""

    minimum: int = -MAX_INT
    maximum: int = MAX_INT

    def __iter__(self) -> Iterator[Any]:
        yield Ge(self.minimum)
        yield Le(self.maximum)


Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
"""A row id: 32 lowercase hexadecimal characters."""

Email = Annotated[str, Text(max_length=254, pattern=EMAIL_PATTERN)]
"""An e-mail address (a light shape check: something@domain.tld)."""


# -- dates and instants ------------------------------------------------------------------------


def _parse_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if value is None:
        raise _fail("must not be null")
    if not isinstance(value, str):
        raise _fail("must be a date string, YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail("must be a valid date, YYYY-MM-DD") from None


def _parse_instant(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if value is None:
        raise _fail("must not be null")
    if not isinstance(value, str):
        raise _fail("must be a date-time string, e.g. 2030-01-15T09:30:00Z")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _fail("must be a valid ISO 8601 date-time, e.g. 2030-01-15T09:30:00Z") from None
    if parsed.tzinfo is None:
        raise _fail("must include a UTC offset, e.g. 2030-01-15T09:30:00Z")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise _fail("must be between years 1 and 9999 in UTC") from None


def _not_future(value: date) -> date:
    if value > datetime.now(UTC).date():
        raise _fail("must not be in the future")
    return value


def _future(value: datetime) -> datetime:
    if value <= datetime.now(UTC):
        raise _fail("must be in the future")
    return value


def _instant_text(value: str) -> str:
    _parse_instant(value)
    return value


def _date_text(value: str) -> str:
    _parse_date(value)
    return value


PastDate = Annotated[date, BeforeValidator(_parse_date), AfterValidator(_not_future)]
"""A calendar date, ``YYYY-MM-DD``, not after today (UTC); validates to a ``date``."""

FutureInstant = Annotated[datetime, BeforeValidator(_parse_instant), AfterValidator(_future)]
"""An ISO 8601 instant with a UTC offset, after now; validates to an aware UTC ``datetime``."""

IsoDate = Annotated[
    str, AfterValidator(_date_text), WithJsonSchema({"type": "string", "format": "date"})
]
"""A calendar date as text, ``YYYY-MM-DD`` (event payloads carry text; the value is kept)."""

IsoDateTime = Annotated[
    str, AfterValidator(_instant_text), WithJsonSchema({"type": "string", "format": "date-time"})
]
"""An instant as text with its offset, e.g. ``2030-01-15T09:30:00Z`` (kept as text)."""
