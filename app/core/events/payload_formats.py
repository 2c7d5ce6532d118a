"""Text formats a payload field may declare: ``Annotated[str, DATE]`` and friends.

JSON has no date type, so dates travel as text; declaring the format lets the shape check
reject ``"next tuesday"`` where an instant is promised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated

__all__ = ["DATE", "DATETIME", "IsoDate", "IsoDateTime", "TextFormat"]


@dataclass(frozen=True)
class TextFormat:
    """A marker for ``Annotated[str, ...]``: the text must parse as ``name``."""

    name: str
    parse: Callable[[str], object] = field(compare=False)


def _parse_datetime(text: str) -> object:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("no UTC offset")
    return value


DATE = TextFormat("ISO 8601 date", date.fromisoformat)
DATETIME = TextFormat("ISO 8601 date-time with a UTC offset", _parse_datetime)
IsoDate = Annotated[str, DATE]
"""A calendar date as text, ``YYYY-MM-DD``."""
IsoDateTime = Annotated[str, DATETIME]
"""An instant as text with its offset, e.g. ``2030-01-15T09:30:00Z``."""
