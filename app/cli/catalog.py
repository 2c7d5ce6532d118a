"""``flask events catalog [--check] [--output PATH]``: write or verify the events catalog.

Without ``--check`` it writes ``docs/events-catalog.md`` (or ``--output``) from the code. With
``--check`` it writes nothing and exits 1 with a one-line hint when the file differs from a
fresh rendering (``make test`` runs this), 0 when it is up to date.

The catalog documents the code, not a deployment: its transports are those of the default
configuration whatever ``EVENTBUS_TRANSPORT`` / ``EVENTBUS_ROUTES`` the environment sets, so
the committed file stays fresh on every machine (``events list`` shows the routing in effect).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from .group import events_cli


@events_cli.command("catalog")
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Write nothing; exit 1 when the file is stale.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where the catalog lives (default: docs/events-catalog.md in the project).",
)
def write_catalog(check_only: bool, output: Path | None) -> None:
    """Write docs/events-catalog.md from the code (or check that it is fresh)."""
    from app.architecture import CATALOG_PATH, PROJECT_ROOT, analyse, render_catalog
    from app.architecture.catalog import staleness
    from app.architecture.findings import relative

    path = output if output is not None else PROJECT_ROOT / CATALOG_PATH
    shown = relative(path)
    analysis = analyse(str(current_app.config["MODULES_PACKAGE"]))  # the default routing
    fresh = render_catalog(analysis)
    if analysis.inventory.problems or analysis.parse_problems:
        click.echo(
            "warning: some modules could not be read; run `flask --app wsgi events check`",
            err=True,
        )
    if check_only:
        committed = path.read_text(encoding="utf-8") if path.is_file() else None
        hint = staleness(committed, fresh, shown)
        if hint is not None:
            click.echo(hint, err=True)
            click.get_current_context().exit(1)
        click.echo(f"{shown} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as file:
        file.write(fresh)
    click.echo(f"wrote {shown}")
