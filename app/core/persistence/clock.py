"""Time in UTC, the same on every database: aware datetimes in, aware datetimes out.

SQLite stores no offset and returns naive datetimes; PostgreSQL returns aware ones in the
session's zone. :class:`UtcDateTime` makes both return aware UTC values, and refuses naive
values on the way in (a naive time is a bug: whose clock?).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["UtcDateTime", "iso_utc", "utcnow"]


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def iso_utc(value: datetime) -> str:
    """RFC 3339 text in UTC with a ``Z``: ``2030-01-15T09:30:00Z`` (microseconds if any)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class UtcDateTime(TypeDecorator[datetime]):
    """A ``DateTime(timezone=True)`` column that always holds and returns aware UTC values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware value (e.g. utcnow())")
        converted = value.astimezone(UTC)
        return converted.replace(tzinfo=None) if dialect.name == "sqlite" else converted

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        result: datetime = value
        if result.tzinfo is None:
            return result.replace(tzinfo=UTC)
        return result.astimezone(UTC)
