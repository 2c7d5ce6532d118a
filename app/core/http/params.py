"""Query-string and path parameters: 400 with the parameter named, 404 for ids of no shape."""

from __future__ import annotations

from flask import request

from app.core.persistence.ids import is_id

from .body import invalid
from .errors import not_found

__all__ = ["query_id", "query_int", "require_id"]


def query_int(name: str, default: int, *, minimum: int = 1, maximum: int = 1000) -> int:
    """The integer query parameter ``name`` (``default`` when absent), else 400."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid({name: "must be an integer"}, "invalid query parameter") from None
    if not minimum <= value <= maximum:
        raise invalid({name: f"must be between {minimum} and {maximum}"}, "invalid query parameter")
    return value


def query_id(name: str) -> str | None:
    """The id query parameter ``name`` (``None`` when absent), else 400."""
    raw = request.args.get(name)
    if raw is None:
        return None
    if not is_id(raw):
        raise invalid(
            {name: "must be an id (32 hexadecimal characters)"}, "invalid query parameter"
        )
    return raw


def require_id(value: str, what: str) -> str:
    """``value`` if it has the shape of an id, else 404 ``<what>_not_found`` (no query made)."""
    if not is_id(value):
        raise not_found(what)
    return value
