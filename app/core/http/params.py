"""Path parameters: an id of no shape is a 404 before any query is made."""

from __future__ import annotations

from app.core.validation import is_id

from .errors import not_found

__all__ = ["require_id"]


def require_id(value: str, what: str) -> str:
    """``value`` if it has the shape of an id, else 404 ``<what>_not_found`` (no query made)."""
    if not is_id(value):
        raise not_found(what)
    return value
