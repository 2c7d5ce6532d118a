"""``flask events check``: the architecture rules of ADR 0003, as ``path:line`` messages.

Prints one line per finding (``path:line: error|warning: message``) and a summary; exits 1
when there is an error (a cross-module import outside ``manifest.depends``, a name not in
``EventType``, an event name it cannot resolve...), else 0. See ``app/architecture/checks.py``.

The checks read the source and inventory ``MODULES_PACKAGE`` themselves, so they report every
problem of the tree, not only what this app mounted. When the app cannot even start (the
loader refuses a module), Flask reports the loader's error; ``python -m app.architecture
check`` then runs the same checks without building the app.
"""

from __future__ import annotations

import click
from flask import current_app

from .group import events_cli
from .progress import counting


@events_cli.command("check")
def check_architecture() -> None:
    """Check module boundaries and event names; exit 1 on any error."""
    from app.architecture import analyse_app, check_report

    with counting("events check: reading the source"):
        lines, code = check_report(analyse_app(current_app))
    for line in lines:
        click.echo(line)
    click.get_current_context().exit(code)
