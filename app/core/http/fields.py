"""Field types for request bodies: each turns a JSON value into a Python value or says why not.

A field's :meth:`Field.parse` returns the converted value or raises :class:`FieldError` with
a message a client can show next to the field (``"must be a string"``). Fields never touch
the database, so every value that reaches a service already fits its column: strings are
bounded and free of control characters (PostgreSQL rejects NUL), integers are bounded (no
overflow), dates parse, instants carry a UTC offset.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from app.core.persistence.ids import is_id

if TYPE_CHECKING:
    from .body import BodySchema

__all__ = [
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
]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_MAX_INT = 2**53  # exact in JSON everywhere, fits BIGINT


class FieldError(ValueError):
    """A value does not fit its field; the message is shown to the client."""


class Field:
    """Base class: ``required`` (absent is an error), ``nullable`` (``null`` is allowed)."""

    def __init__(self, *, required: bool = True, nullable: bool = False) -> None:
        self.required = required
        self.nullable = nullable

    def parse(self, value: Any) -> Any:
        """The converted value, or :class:`FieldError`."""
        raise NotImplementedError


class Text(Field):
    """A string, stripped of surrounding whitespace, ``min_length``..``max_length`` long."""

    def __init__(
        self, *, min_length: int = 1, max_length: int = 200, pattern: str | None = None, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.min_length = min_length
        self.max_length = max_length
        self.pattern = re.compile(pattern) if pattern else None

    def parse(self, value: Any) -> str:
        if not isinstance(value, str):
            raise FieldError("must be a string")
        text = value.strip()
        if _CONTROL.search(text):
            raise FieldError("must not contain control characters")
        if _SURROGATE.search(text):  # valid JSON ("\ud800"), but no database can store it
            raise FieldError("must be valid Unicode text")
        if len(text) < self.min_length:
            raise FieldError(
                "must not be empty"
                if self.min_length == 1
                else f"must be at least {self.min_length} characters"
            )
        if len(text) > self.max_length:
            raise FieldError(f"must be at most {self.max_length} characters")
        if self.pattern is not None and not self.pattern.fullmatch(text):
            raise FieldError(self.mismatch())
        return text

    def mismatch(self) -> str:
        """The message when the text does not match ``pattern``."""
        return "has the wrong format"


class Email(Text):
    """An e-mail address (a light shape check: something@domain.tld)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(max_length=254, pattern=_EMAIL.pattern, **kw)

    def mismatch(self) -> str:
        return "must be an e-mail address"


class Integer(Field):
    """An integer (not a boolean, not a float) between ``minimum`` and ``maximum``."""

    def __init__(self, *, minimum: int = -_MAX_INT, maximum: int = _MAX_INT, **kw: Any) -> None:
        super().__init__(**kw)
        self.minimum = minimum
        self.maximum = maximum

    def parse(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError("must be an integer")
        if value < 0 <= self.minimum:
            raise FieldError("must not be negative")
        if value < self.minimum:
            raise FieldError(
                "must be greater than zero"
                if self.minimum == 1
                else f"must be at least {self.minimum}"
            )
        if value > self.maximum:
            raise FieldError(f"must be at most {self.maximum}")
        return value


class Boolean(Field):
    """``true`` or ``false``."""

    def parse(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise FieldError("must be true or false")
        return value


class Choice(Field):
    """One of a fixed set of strings."""

    def __init__(self, choices: Sequence[str], **kw: Any) -> None:
        super().__init__(**kw)
        self.choices = tuple(choices)

    def parse(self, value: Any) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise FieldError(f"must be one of: {', '.join(self.choices)}")
        return value


class Date(Field):
    """A calendar date, ``YYYY-MM-DD``; ``past_only`` rejects dates after today (UTC)."""

    def __init__(self, *, past_only: bool = False, **kw: Any) -> None:
        super().__init__(**kw)
        self.past_only = past_only

    def parse(self, value: Any) -> date:
        if not isinstance(value, str):
            raise FieldError("must be a date string, YYYY-MM-DD")
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise FieldError("must be a valid date, YYYY-MM-DD") from None
        if self.past_only and parsed > datetime.now(UTC).date():
            raise FieldError("must not be in the future")
        return parsed


class DateTime(Field):
    """An ISO 8601 instant with a UTC offset (``2030-01-15T09:30:00Z``), returned in UTC.

    ``future_only`` rejects instants that are not after now.
    """

    def __init__(self, *, future_only: bool = False, **kw: Any) -> None:
        super().__init__(**kw)
        self.future_only = future_only

    def parse(self, value: Any) -> datetime:
        if not isinstance(value, str):
            raise FieldError("must be a date-time string, e.g. 2030-01-15T09:30:00Z")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise FieldError(
                "must be a valid ISO 8601 date-time, e.g. 2030-01-15T09:30:00Z"
            ) from None
        if parsed.tzinfo is None:
            raise FieldError("must include a UTC offset, e.g. 2030-01-15T09:30:00Z")
        try:
            utc = parsed.astimezone(UTC)
        except OverflowError:
            raise FieldError("must be between years 1 and 9999 in UTC") from None
        if self.future_only and utc <= datetime.now(UTC):
            raise FieldError("must be in the future")
        return utc


class Id(Field):
    """A row id: 32 lowercase hex characters."""

    def parse(self, value: Any) -> str:
        if not is_id(value):
            raise FieldError("must be an id (32 hexadecimal characters)")
        result: str = value
        return result


class ListOf(Field):
    """A list of objects, each checked against ``schema``; ``min_items``..``max_items`` long.

    Errors inside items are reported under ``<field>[<index>].<name>`` by the body schema.
    """

    def __init__(
        self, schema: BodySchema, *, min_items: int = 0, max_items: int = 100, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.schema = schema
        self.min_items = min_items
        self.max_items = max_items

    def parse(self, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise FieldError("must be a list")
        if len(value) < self.min_items:
            raise FieldError(
                "must not be empty" if self.min_items == 1 else f"needs {self.min_items} items"
            )
        if len(value) > self.max_items:
            raise FieldError(f"must have at most {self.max_items} items")
        return value
