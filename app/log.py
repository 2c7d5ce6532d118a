"""structlog, configured once by the app factory, and the stdlib loggers rendered alike.

JSON lines in production; readable console output in development (``LOG_FORMAT="console"``,
or ``"auto"`` with a terminal on stderr), in colour only when stderr is a terminal. Loggers are
level-filtered at configuration time (``make_filtering_bound_logger``), so a filtered debug
call costs ~100–200 ns. Payloads and credentials are never logged by the bus.

One format per process: records of stdlib loggers (werkzeug's request lines, RQ's worker
lines, gunicorn's, SQLAlchemy's...) go through structlog's ``ProcessorFormatter`` with the same
renderer and the same fields (``event``, ``level``, ``logger``, ``timestamp``); the ANSI
colour codes some libraries put in their messages are removed. Handlers that a library
attached to its own loggers before the app was built (``rq worker`` and gunicorn do) keep their
stream and get this formatter. Lines are written under a lock that ``fork()`` never leaves
taken in a child (``app.log_writer``).
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from blinker import Signal

from app.log_writer import LineWriterFactory, write_lock

__all__ = [
    "add_context_source",
    "configure_from_environment",
    "configure_logging",
    "get_logger",
    "log_context",
    "logging_configured",
]

logging_configured = Signal("Sent after configure_logging(); the bus re-resolves its logger.")
_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_LIBRARY_LOGGERS = ("rq", "gunicorn", "werkzeug")
"""Loggers whose own handlers (if any) are given the process's formatter."""
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
ContextSource = Callable[[MutableMapping[str, Any]], None]
"""Adds the fields of what the running code works for to a log line's dict (absent keys
only: what the call or the bound context variables say wins)."""
_context_sources: list[ContextSource] = []


def add_context_source(source: ContextSource) -> None:
    """Make every log line carry what ``source`` adds, read when the line is written.

    For state that already lives in a ``ContextVar`` of its own (the event being handled:
    ``app.core.events.context``): reading it when a line is written costs nothing per event,
    where binding it in structlog's context variables would cost two ``ContextVar`` sets
    for every delivered event, logged or not.
    """
    if source not in _context_sources:
        _context_sources.append(source)


def _merge_context_sources(
    logger: Any, method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for source in _context_sources:
        source(event)
    return event


def log_context() -> dict[str, Any]:
    """The fields a log line written now would carry from context: structlog's bound
    context variables, then the context sources'."""
    fields = structlog.contextvars.get_contextvars()
    _merge_context_sources(None, "", fields)
    return fields


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    """Configure structlog and the stdlib root logger for the whole process.

    ``level`` is a level name; ``fmt`` is ``"json"``, ``"console"`` or ``"auto"``. Unknown
    values raise ``ValueError`` (the factory reports them as configuration errors). Calling it
    again replaces the previous configuration (the root handler it installed included).
    """
    numeric = _LEVELS.get(level.upper())
    if numeric is None:
        raise ValueError(f"LOG_LEVEL={level!r}: use one of {', '.join(_LEVELS)}")
    if fmt not in {"json", "console", "auto"}:
        raise ValueError(f"LOG_FORMAT={fmt!r}: use json, console or auto")
    terminal = sys.stderr.isatty()
    console = fmt == "console" or (fmt == "auto" and terminal)
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=terminal)
        if console
        else structlog.processors.JSONRenderer()
    )
    exceptions: Any = _keep if console else structlog.processors.format_exc_info
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _merge_context_sources,
            structlog.processors.add_log_level,
            timestamper,
            structlog.processors.StackInfoRenderer(),
            exceptions,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=LineWriterFactory(sys.stderr),  # fork-safe (``app.log_writer``)
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            _merge_context_sources,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            timestamper,
            _strip_ansi,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            exceptions,
            renderer,
        ],
    )
    _install_root_handler(formatter, numeric)
    _reformat(_library_handlers(_LIBRARY_LOGGERS), formatter)
    logging_configured.send(None, level=numeric)


def configure_from_environment() -> None:
    """``configure_logging`` from ``FLASK_LOG_LEVEL`` and ``FLASK_LOG_FORMAT`` (for processes
    that log before an app is built, such as gunicorn's arbiter; see ``gunicorn.conf.py``)."""
    configure_logging(
        os.environ.get("FLASK_LOG_LEVEL", "INFO"), os.environ.get("FLASK_LOG_FORMAT", "auto")
    )


def get_logger(name: str) -> Any:
    """A resolved (not lazy) level-filtered logger bound to ``logger=name``."""
    return structlog.get_logger().bind(logger=name)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler: writes to whatever ``sys.stderr`` is at the time of each record."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        """Ignored: the stream is always the current ``sys.stderr``."""

    def emit(self, record: logging.LogRecord) -> None:
        """The stdlib's, under the lock structlog's lines take (never mid-write at a fork)."""
        with write_lock():
            super().emit(record)


def _install_root_handler(formatter: logging.Formatter, level: int) -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level)


def _library_handlers(prefixes: Iterable[str]) -> list[logging.Handler]:
    names = [
        name
        for name in list(logging.root.manager.loggerDict)
        if any(name == prefix or name.startswith(f"{prefix}.") for prefix in prefixes)
    ]
    return [handler for name in names for handler in logging.getLogger(name).handlers]


def _reformat(handlers: Iterable[logging.Handler], formatter: logging.Formatter) -> None:
    for handler in handlers:
        if isinstance(handler, logging.StreamHandler | logging.FileHandler):
            handler.setFormatter(formatter)


def _strip_ansi(logger: Any, method: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    message = event.get("event")
    if isinstance(message, str) and "\x1b" in message:
        event["event"] = _ANSI.sub("", message)
    return event


def _keep(logger: Any, method: str, event: Any) -> Any:
    return event
