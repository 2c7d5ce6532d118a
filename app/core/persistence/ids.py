"""Row ids: 32 lowercase hex characters (a random UUID), the same shape as event ids."""

from __future__ import annotations

import hashlib
import re
import uuid

__all__ = ["is_id", "new_id", "stable_id"]

_ID = re.compile(r"[0-9a-f]{32}")


def new_id() -> str:
    """A new random id (``uuid4().hex``)."""
    return uuid.uuid4().hex


def stable_id(key: str) -> str:
    """The id that ``key`` always gives (the first 32 hex digits of its SHA-256): for a row
    that a retried operation must create with the same id each time."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def is_id(value: object) -> bool:
    """Whether ``value`` has the shape of an id made by :func:`new_id`."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None
