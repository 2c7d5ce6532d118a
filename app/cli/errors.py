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

__all__ = ["ConfigurationProblem", "ConnectionProblem", "command_line_errors"]


class ConfigurationProblem(click.ClickException):
    """A setting, a module or an install is wrong: ``Error: <message>``, exit status 2."""

    exit_code = 2


class ConnectionProblem(click.ClickException):
    """Redis or the database cannot be reached: ``Error: <message>``, exit status 1."""

    exit_code = 1


@contextmanager
def command_line_errors() -> Iterator[None]:
    """Inside a click command, turn configuration and connection problems into
    :class:`ConfigurationProblem` or :class:`ConnectionProblem` (see the module docstring);
    elsewhere, do nothing."""
    if click.get_current_context(silent=True) is None:
        yield
        return
    try:
        yield
    except ConfigurationError as exc:
        raise ConfigurationProblem(str(exc)) from exc
    except TransportError as exc:
        raise ConnectionProblem(str(exc)) from exc
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else ""
        message = f"the database cannot be used: {type(exc.orig).__name__}: {reason}"
        raise ConnectionProblem(message) from exc
    except transports.connection_errors() as exc:
        raise ConnectionProblem(f"Redis cannot be reached: {type(exc).__name__}: {exc}") from exc
