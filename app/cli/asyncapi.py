"""``flask events asyncapi [--check] [--output PATH]``: write or verify docs/asyncapi.yaml.

Without ``--check`` it writes the AsyncAPI 3.0 document of the events (or ``--output``) from
the code. With ``--check`` it writes nothing and exits 1 with a one-line hint when the file
differs from a fresh rendering (``make test`` runs this), 0 when it is up to date.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app

from .group import events_cli


@events_cli.command("asyncapi")
@click.option(
    "--check", "check_only", is_flag=True, help="Write nothing; exit 1 when the file is stale."
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where the document lives (default: docs/asyncapi.yaml in the project).",
)
def write_asyncapi(check_only: bool, output: Path | None) -> None:
    """Write docs/asyncapi.yaml from the declared payloads (or check that it is fresh)."""
    from app import __version__
    from app.architecture import PROJECT_ROOT, analyse_app, staleness
    from app.architecture.asyncapi import ASYNCAPI_COMMAND, ASYNCAPI_PATH, render_asyncapi
    from app.architecture.findings import relative

    path = output if output is not None else PROJECT_ROOT / ASYNCAPI_PATH
    shown = relative(path)
    fresh = render_asyncapi(analyse_app(current_app), __version__)
    if check_only:
        committed = path.read_text(encoding="utf-8") if path.is_file() else None
        hint = staleness(committed, fresh, shown, ASYNCAPI_COMMAND)
        if hint is not None:
            click.echo(hint, err=True)
            click.get_current_context().exit(1)
        click.echo(f"{shown} is up to date")
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="\n") as file:
            file.write(fresh)
    except OSError as exc:
        raise click.ClickException(f"cannot write {shown}: {exc.strerror or exc}") from None
    click.echo(f"wrote {shown}")
