"""``flask events stats``: backlog per handler and dead letters, for every remote transport."""

from __future__ import annotations

import json
from dataclasses import asdict

import click
from flask import current_app

from app.core.events.exceptions import EventBusError
from app.core.outbox import EXTENSION as OUTBOX
from app.core.outbox import OutboxRelay

from .group import events_cli
from .printable import printable
from .processes import process_lines


@events_cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def stats(as_json: bool) -> None:
    """Per handler: pending, lag, oldest pending age, consumers; dead letters; warnings."""
    from transports.operations import transport_stats

    state = current_app.extensions["eventbus"]
    try:
        reports = transport_stats(current_app.config, state.bus.subscriptions(), state.transports)
    except EventBusError as exc:
        raise click.ClickException(str(exc)) from exc
    relay: OutboxRelay | None = current_app.extensions.get(OUTBOX)
    outbox = relay.store.stats() if relay is not None else None
    processes = process_lines(current_app._get_current_object())  # type: ignore[attr-defined]
    if as_json:
        body: list[dict[str, object]] = [asdict(report) for report in reports]
        if outbox is not None:  # one more item, told apart by its "transport"
            body.append({"transport": "outbox", **asdict(outbox)})
        if processes:
            body.append({"transport": "processes", "processes": processes})
        click.echo(json.dumps(body, indent=2))
        return
    if outbox is not None:
        oldest = (
            "-" if outbox.oldest_pending_age_s is None else f"{outbox.oldest_pending_age_s:.1f}s"
        )
        click.echo(
            f"outbox: {outbox.backlog} unsent, oldest {oldest}, "
            f"{outbox.sent_retained} sent kept for retention, {outbox.set_aside} set aside"
        )
    for line in processes:
        click.echo(
            f"process {line['process']}: routing {line['fingerprint']}, last beat "
            f"{line['age_s']:.1f}s ago" + (f"; {line['note']}" if line["note"] else "")
        )
    if not reports:
        click.echo("no configured transport reports stats (only in-process handlers?)")
    for report in reports:
        click.echo(f"{report.transport}: {report.dead_letters} dead letter(s)")
        rows = [("HANDLER", "PENDING", "LAG", "OLDEST PENDING", "CONSUMERS", "DEAD")]
        rows += [
            (
                row.handler_id,
                str(row.pending),
                "?" if row.lag is None else str(row.lag),
                "-" if row.oldest_pending_age_s is None else f"{row.oldest_pending_age_s:.1f}s",
                printable(",".join(row.consumers) or "-"),
                str(row.dead_letters),
            )
            for row in report.handlers
        ]
        widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
        for row in rows:
            click.echo(
                "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            )
        for note in report.notes:
            click.echo(f"  note: {printable(note)}")
