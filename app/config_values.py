"""The checks a setting's value goes through: each returns the problem, or ``None``.

A problem reads after its key (``"EVENTBUS_OUTBOX: must be …, got 'no'"``), says what is
valid, and shows the value given with ``repr`` (values of these keys are never secrets; the
URLs are checked in :mod:`app.config_urls`, which never echoes them).
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "boolean",
    "integer",
    "integer_list",
    "mapping",
    "one_of",
    "optional_names",
    "package",
    "shown",
    "text",
]

ValueCheck = Callable[[Any], str | None]

URL_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")
"""A URL path as RFC 3986 writes one: no spaces, no ``<``/``>`` (Flask reads those as a
route variable, and a malformed one stopped the app with a ValueError)."""


CREDENTIAL_HINTS = ("@", "://", "password", "passwd")
"""What a value that may hold a password (a URL given to the wrong key) contains."""


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters; a value that looks like it may hold a
    credential (see :data:`CREDENTIAL_HINTS`) is not shown at all."""
    text = repr(value)
    if any(hint in text.lower() for hint in CREDENTIAL_HINTS):
        return "a value not shown (it looks like a URL, which may hold a password)"
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
    """A non-blank string of printable characters (no control characters, no lone
    surrogates: Redis keys, queue names and log lines are made of these; ``optional``: or
    ``None``; ``path``: a URL path starting with ``/``; ``pattern``: a handler-id pattern,
    i.e. without spaces at its ends)."""

    def check(value: Any) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            what = "a non-empty string" + (" or null" if optional else "")
            return f"must be {what}, got {shown(value)}"
        if not value.isprintable():
            return f"must be printable text (no control characters), got {shown(value)}"
        if path and not URL_PATH.fullmatch(value):
            return (
                "must be a URL path starting with '/' of letters, digits and -._~/ "
                f"(no spaces, '<' or '>'), got {shown(value)}"
            )
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
                problems.append(f"[{shown(key)}] {problem}")
        return "; ".join(problems) or None

    return check


def package(value: Any) -> str | None:
    """The dotted name of an importable Python package (not a plain module)."""
    if not isinstance(value, str) or not all(part.isidentifier() for part in value.split(".")):
        return f"must be a dotted Python package name such as 'modules', got {shown(value)}"
    try:
        spec = importlib.util.find_spec(value)
    except (ImportError, ValueError):  # a parent package missing, or not a package
        spec = None
    if spec is None or spec.submodule_search_locations is None:
        return f"must name an importable Python package, got {shown(value)}"
    return None


def optional_names(value: Any) -> str | None:
    """``None`` or a list of module names (Python identifiers: a module is a package)."""
    if value is None or (
        isinstance(value, list | tuple)
        and all(isinstance(v, str) and v.isidentifier() for v in value)
    ):
        return None
    return f"must be null or a list of module names, got {shown(value)}"
