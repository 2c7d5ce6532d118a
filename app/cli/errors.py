"""How a ``flask`` command reports what stops it: one short message and an exit status.

- a configuration problem (``ConfigurationError``: a bad setting, a module that cannot load,
  a missing extra): ``Error: <message>``, exit status **2**;
- a connection problem (Redis or the database cannot be reached, ``TransportError``):
  ``Error: <message>``, exit status **1**.

Never a traceback. :func:`command_line_errors` does it around the app factory (any command,
Flask's own included, builds the app first) and around every ``flask events`` command; it
changes nothing outside a click command (gunicorn, tests calling ``create_app``), where the
exception propagates as raised.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.exc import OperationalError

import transports
from app.core.events.exceptions import ConfigurationError, TransportError

__all__ = ["CommandError", "command_line_errors"]

CONFIGURATION_STATUS = 2
CONNECTION_STATUS = 1


class CommandError(click.ClickException):
    """A problem a command reports as ``Error: <message>`` and ``exit_code``."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@contextmanager
def command_line_errors() -> Iterator[None]:
    """Inside a click command, turn configuration and connection problems into
    :class:`CommandError` (see the module docstring); elsewhere, do nothing."""
    if click.get_current_context(silent=True) is None:
        yield
        return
    try:
        yield
    except ConfigurationError as exc:
        raise CommandError(str(exc), CONFIGURATION_STATUS) from exc
    except TransportError as exc:
        raise CommandError(str(exc), CONNECTION_STATUS) from exc
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else ""
        message = f"the database cannot be used: {type(exc.orig).__name__}: {reason}"
        raise CommandError(message, CONNECTION_STATUS) from exc
    except transports.connection_errors() as exc:
        raise CommandError(
            f"Redis cannot be reached: {type(exc).__name__}: {exc}", CONNECTION_STATUS
        ) from exc
