"""``python -m app.architecture check [--package NAME]``: the checks without building the app.

``flask --app wsgi events check`` needs the app to start; when the module loader refuses to
start it (say, a module subscribes to a name not in ``EventType``), Flask only shows the
loader's message. This entry point runs the same checks on the source and a tolerant
inventory of the modules, and prints every finding with its file and line. Transports are
not involved (every handler is taken as in-process), so nothing but the source is read.
"""

from __future__ import annotations

import os

import click

from app.config import SETTINGS

from .analysis import analyse
from .checks import check_report

PACKAGE_ENV = "FLASK_MODULES_PACKAGE"


@click.group()
def main() -> None:
    """Architecture checks of a modules package (ADR 0003)."""


@main.command("check")
@click.option(
    "--package",
    default=None,
    help=f"The modules package (default: ${PACKAGE_ENV}, else MODULES_PACKAGE's default).",
)
def check(package: str | None) -> None:
    """Check module boundaries and event names; exit 1 on any error."""
    chosen = package or os.environ.get(PACKAGE_ENV) or str(SETTINGS["MODULES_PACKAGE"].default)
    lines, code = check_report(analyse(chosen))
    for line in lines:
        click.echo(line)
    click.get_current_context().exit(code)


if __name__ == "__main__":
    main()
