"""What the bus records about a failed handler: the error, without personal data or secrets.

One function, :func:`describe_error`, makes the text every recorder uses: the in-process
failure log (``failures.report_failure``), the Redis Streams dead-letter reason and log, and
RQ's failed-job info (``transports.rq_queue``'s dispatcher raises a :class:`RedactedError`
carrying it). By default:

- a database error (SQLAlchemy's ``DBAPIError``, or a driver error with a ``sqlstate``) is
  reduced to its class, SQLSTATE (SQLite: its error name) and constraint name: PostgreSQL's
  ``DETAIL: Failing row contains (...)`` and SQLAlchemy's ``[SQL: ...] [parameters: ...]``
  never appear;
- any other error keeps its class and message, with every string value of the event's
  payload (3 characters or more, at any depth) replaced by ``[redacted]``;
- the text is cut to ``MAX_CHARS``.

With ``EVENTBUS_LOG_FULL_ERRORS`` on (``full=True``) the message is kept whole, for debugging.
:func:`log_fields` gives the matching structlog fields: a redacted ``error`` and the stack
frames without any exception message, or ``exc_info`` itself when ``full``.
:func:`redacted_error` gives the same as an exception object, :class:`RedactedError`: what the
instrumentation hook's observers (signals, metrics, dashboard) and the tracer's spans get in
place of a handler's exception (``instrumentation``'s contract).
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterator
from typing import Any

from .exceptions import EventBusError

__all__ = [
    "MAX_CHARS",
    "REDACTED",
    "RedactedError",
    "describe_error",
    "log_fields",
    "redacted_error",
    "redacted_message",
]

MAX_CHARS = 1000
REDACTED = "[redacted]"
_MIN_SECRET = 3
_ESCAPED = re.compile("[\\\\'\"\x00-\x1f\x7f-\U0010ffff]+")  # what repr or JSON may escape
_SQLITE_CONSTRAINT = re.compile(r"constraint failed: ([\w.]+(?:, [\w.]+)*)")


class RedactedError(EventBusError):
    """A handler's error as recorded: ``str()`` is ``describe_error``'s text (class: message).

    Raised in place of the handler's exception where a library records the exception itself
    (RQ stores its traceback), with ``from None``: the original's message is not chained.
    ``error_class`` is the original exception's class name; ``stack`` the handler's frames as
    text, without any exception message (``""`` if unknown). It never holds the original
    exception nor its traceback object (whose frames' locals hold the payload).
    """

    def __init__(self, text: str, error_class: str, stack: str = "") -> None:
        super().__init__(text)
        self.error_class = error_class
        self.stack = stack

    @property
    def message(self) -> str:
        """The text without its leading ``"<error_class>: "``."""
        return str(self).removeprefix(f"{self.error_class}: ")


def describe_error(exc: BaseException, payload: Any = None, *, full: bool = False) -> str:
    """``"<class>: <message>"`` for ``exc``, redacted unless ``full`` (see the module doc)."""
    name = type(exc).__name__
    if full:
        return f"{name}: {exc}"[: MAX_CHARS * 10]
    database = _database_error(exc)
    if database is not None:
        return database
    try:
        message = str(exc)
    except Exception:  # an exception whose __str__ fails still gets recorded
        message = "(message unavailable)"
    message = _without_payload_strings(message, payload)
    text = f"{name}: {message}" if message else name
    return text[:MAX_CHARS]


def redacted_message(exc: BaseException, payload: Any = None, *, full: bool = False) -> str:
    """:func:`describe_error` without the leading ``"<class>: "`` (where the class is
    recorded beside it, as in a dead letter's ``error_class``)."""
    return describe_error(exc, payload, full=full).removeprefix(f"{type(exc).__name__}: ")


def redacted_error(exc: BaseException, payload: Any = None, *, full: bool = False) -> RedactedError:
    """``exc`` as the instrumentation hook's observers and the tracer get it: a
    :class:`RedactedError` with :func:`describe_error`'s text and the frames as text (both
    unredacted when ``full``). A :class:`RedactedError` is returned as it is."""
    if isinstance(exc, RedactedError):
        return exc
    return RedactedError(
        describe_error(exc, payload, full=full), type(exc).__name__, _stack(exc, payload, full)
    )


def log_fields(exc: BaseException, payload: Any = None, *, full: bool = False) -> dict[str, Any]:
    """structlog fields for a failed handler: ``exc_info`` when ``full``, else the redacted
    ``error`` and ``error_class`` and ``stack`` (the frames, no exception message)."""
    if full:
        return {"exc_info": exc}
    return {
        "error_class": type(exc).__name__,
        "error": describe_error(exc, payload),
        "stack": _stack(exc, payload, False),
    }


def _stack(exc: BaseException, payload: Any, full: bool) -> str:
    """The frames of ``exc``'s traceback as text (source lines, never exception messages),
    payload strings replaced unless ``full``; the last 4,000 characters."""
    frames = "".join(traceback.format_tb(exc.__traceback__)) if exc.__traceback__ else ""
    return (frames if full else _without_payload_strings(frames, payload))[-4000:]


def _database_error(exc: BaseException) -> str | None:
    """``"<class> (SQLSTATE x, constraint y)"`` for a database error, else ``None``."""
    orig = getattr(exc, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's error
    driver = orig if isinstance(orig, BaseException) else exc
    sqlstate = getattr(driver, "sqlstate", None) or getattr(driver, "pgcode", None)
    sqlite_name = getattr(driver, "sqlite_errorname", None)
    if orig is None and sqlstate is None and sqlite_name is None:
        return None
    details = []
    if sqlstate:
        details.append(f"SQLSTATE {str(sqlstate)[:5]}")
    elif sqlite_name:
        details.append(str(sqlite_name)[:60])
    constraint = _constraint(driver, sqlite_name is not None)
    if constraint:
        details.append(f"constraint {constraint[:120]}")
    names = type(exc).__name__
    if driver is not exc:
        names += f" ({type(driver).__name__})"
    return f"{names}: {', '.join(details)}" if details else names


def _constraint(driver: BaseException, sqlite: bool) -> str | None:
    diag = getattr(driver, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if isinstance(name, str) and name:
        return name
    if sqlite:  # SQLite names columns, never values: "UNIQUE constraint failed: t.email"
        found = _SQLITE_CONSTRAINT.search(str(driver.args[0]) if driver.args else "")
        return found.group(1) if found else None
    return None


def _without_payload_strings(text: str, payload: Any) -> str:
    """Replace each payload string, and each run of it that escaping leaves intact (a
    message may hold a value inside a repr, JSON, or a repr of a repr)."""
    secrets: set[str] = set()
    for value in _strings(payload):
        secrets.add(value)
        secrets.update(piece for piece in _ESCAPED.split(value) if len(piece) >= _MIN_SECRET)
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    """Every string of ``value`` (keys excepted) of ``_MIN_SECRET`` characters or more."""
    if depth > 64:
        return
    if isinstance(value, str):
        if len(value) >= _MIN_SECRET:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item, depth + 1)
