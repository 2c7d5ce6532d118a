"""The checks a setting's value goes through: each returns the problem, or ``None``.

A problem reads after its key (``"EVENTBUS_OUTBOX: must be …, got 'no'"``), says what is
valid, and shows the value given with ``repr`` (values of these keys are never secrets; the
URLs are checked in :mod:`app.config_urls`, which never echoes them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "boolean",
    "integer",
    "integer_list",
    "mapping",
    "one_of",
    "optional_names",
    "shown",
    "text",
]

ValueCheck = Callable[[Any], str | None]


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def boolean(value: Any) -> str | None:
    """``true`` or ``false`` (JSON in the environment), nothing else."""
    if isinstance(value, bool):
        return None
    return f"must be true or false, got {shown(value)}"


def one_of(*choices: Any) -> ValueCheck:
    """A value among ``choices`` (compared by type and value: ``1`` is not ``true``)."""
    listed = ", ".join(json.dumps(choice) for choice in choices)

    def check(value: Any) -> str | None:
        if any(type(value) is type(choice) and value == choice for choice in choices):
            return None
        return f"must be one of {listed}, got {shown(value)}"

    return check


def integer(minimum: int, maximum: int, *, optional: bool = False) -> ValueCheck:
    """An integer from ``minimum`` to ``maximum`` (or ``None`` when ``optional``)."""
    wanted = f"an integer from {minimum} to {maximum}" + (" or null" if optional else "")

    def check(value: Any) -> str | None:
        if value is None and optional:
            return None
        if _is_int(value) and minimum <= value <= maximum:
            return None
        return f"must be {wanted}, got {shown(value)}"

    return check


def integer_list(minimum: int, maximum: int) -> ValueCheck:
    """A non-empty list of integers, each from ``minimum`` to ``maximum``."""

    def check(value: Any) -> str | None:
        if (
            isinstance(value, list | tuple)
            and value
            and all(_is_int(item) and minimum <= item <= maximum for item in value)
        ):
            return None
        return (
            f"must be a non-empty list of integers from {minimum} to {maximum}, got {shown(value)}"
        )

    return check


def text(*, optional: bool = False, pattern: bool = False, path: bool = False) -> ValueCheck:
    """A non-blank string (``optional``: or ``None``; ``path``: starting with ``/``;
    ``pattern``: a handler-id pattern, i.e. without spaces)."""

    def check(value: Any) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            what = "a non-empty string" + (" or null" if optional else "")
            return f"must be {what}, got {shown(value)}"
        if path and not value.startswith("/"):
            return f"must be a URL path starting with '/', got {shown(value)}"
        if pattern and value != value.strip():
            return f"must not start or end with spaces, got {shown(value)}"
        return None

    return check


def mapping(keys: ValueCheck, values: ValueCheck, what: str) -> ValueCheck:
    """A JSON object whose keys (``what``) and values pass ``keys`` and ``values``."""

    def check(value: Any) -> str | None:
        if not isinstance(value, Mapping):
            return f"must be a JSON object of {what} → value, got {shown(value)}"
        problems = []
        for key, item in value.items():
            problem = keys(key)
            if problem is not None:
                problems.append(f"a {what} {problem}")
                continue
            problem = values(item)
            if problem is not None:
                problems.append(f"[{key!r}] {problem}")
        return "; ".join(problems) or None

    return check


def optional_names(value: Any) -> str | None:
    """``None`` or a list of non-empty strings (module names)."""
    if value is None or (
        isinstance(value, list | tuple) and all(isinstance(v, str) and v.strip() for v in value)
    ):
        return None
    return f"must be null or a list of module names, got {shown(value)}"
