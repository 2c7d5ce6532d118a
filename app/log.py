"""structlog, configured once by the app factory.

JSON lines in production; readable console output in development (``LOG_FORMAT="console"``,
or ``"auto"`` with a terminal on stderr). Loggers are level-filtered at configuration time
(``make_filtering_bound_logger``), so a filtered debug call costs ~100–200 ns. Payloads and
credentials are never logged by the bus.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from blinker import Signal

__all__ = ["configure_logging", "get_logger", "logging_configured"]

logging_configured = Signal("Sent after configure_logging(); the bus re-resolves its logger.")
_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


def configure_logging(level: str = "INFO", fmt: str = "auto") -> None:
    """Configure structlog and the stdlib root logger for the whole process.

    ``level`` is a level name; ``fmt`` is ``"json"``, ``"console"`` or ``"auto"``. Unknown
    values raise ``ValueError`` (the factory reports them as configuration errors).
    """
    numeric = _LEVELS.get(level.upper())
    if numeric is None:
        raise ValueError(f"LOG_LEVEL={level!r}: use one of {', '.join(_LEVELS)}")
    if fmt not in {"json", "console", "auto"}:
        raise ValueError(f"LOG_FORMAT={fmt!r}: use json, console or auto")
    console = fmt == "console" or (fmt == "auto" and sys.stderr.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer() if console else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info if not console else _keep,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.WriteLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(
        level=numeric, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s"
    )
    logging.getLogger().setLevel(numeric)
    logging_configured.send(None, level=numeric)


def get_logger(name: str) -> Any:
    """A resolved (not lazy) level-filtered logger bound to ``logger=name``."""
    return structlog.get_logger().bind(logger=name)


def _keep(logger: Any, method: str, event: Any) -> Any:
    return event
