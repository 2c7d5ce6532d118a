"""``flask events rq-command``: RQ's own ``rq worker`` line for this app's settings.

RQ's CLI knows nothing of the bus's settings: run by hand, ``rq worker`` listens on queues
named after the default key prefix and idles silently when the app uses another one. This
command prints the line that matches the settings in effect (queues under
``EVENTBUS_KEY_PREFIX``, ``EVENTBUS_REDIS_URL`` with any password masked, the bus's safe
worker and job classes, RQ's JSON serializer, and for a ``redis+sentinel://`` URL the client
class that reads it), as shell that can be pasted or run with
``eval "$(flask --app wsgi events rq-command)"`` when the URL holds no password. A Redis
Cluster URL, which RQ cannot use, is refused in one line (exit status 1).
"""

from __future__ import annotations

import shlex

import click
from flask import current_app

from .group import events_cli

__all__ = ["format_command"]


def format_command(argv: list[str]) -> str:
    """``argv`` as shell, one option (with its value) per continued line."""
    lines: list[list[str]] = [[]]
    for arg in argv:
        if arg.startswith("--") and len(lines[-1]) > 1:
            lines.append([])
        lines[-1].append(shlex.quote(arg))
    return " \\\n  ".join(" ".join(line) for line in lines)


@events_cli.command("rq-command")
def rq_command_command() -> None:
    """Print RQ's own `rq worker` command line for the handlers of this app's settings."""
    from app.core.events.exceptions import ConfigurationError

    try:
        from transports.rq_queue.command import rq_command
    except ModuleNotFoundError as exc:
        raise click.ClickException(
            f"the RQ transport needs {exc.name!r}: pip install 'flask-eventbus[redis]'"
        ) from exc
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        click.echo(format_command(rq_command(app)))
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
