"""``flask events dlq list | show | replay | purge``: dead letters of every remote transport.

Stores come from ``transports.operations.dead_letter_stores`` (each configured transport
that offers one). A dead-letter id is looked up in each store in turn; ``--transport``
narrows the search to one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any

import click
from flask import current_app

from app.core.events.dead_letters import DeadLetter, DeadLetterStore
from app.core.events.exceptions import EventBusError

from .group import events_cli
from .printable import printable
from .progress import counting

REPLAY_LINES = 20
"""A replay of more dead letters than this prints only failures, counts and the summary."""
_TRANSPORT = click.option("--transport", default=None, help="Only this transport's store.")


@events_cli.group("dlq")
def dlq() -> None:
    """Inspect, replay and purge dead letters."""


def _stores(transport: str | None) -> list[DeadLetterStore]:
    from transports.operations import dead_letter_stores

    names = current_app.extensions["eventbus"].transports
    if transport is not None:
        if transport not in names:
            raise click.UsageError(f"transport {transport!r} is not configured here")
        names = [transport]
    return dead_letter_stores(current_app.config, names)


def _find(
    stores: Sequence[DeadLetterStore], dead_letter_id: str
) -> tuple[DeadLetterStore, DeadLetter]:
    for store in stores:
        try:
            return store, store.get(dead_letter_id)
        except KeyError:
            continue
    raise click.ClickException(f"no dead letter {dead_letter_id!r}")


@dlq.command("list")
@_TRANSPORT
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
def list_dead_letters(transport: str | None, limit: int, as_json: bool) -> None:
    """The oldest dead letters: id, transport, handler, deliveries, error, event."""
    try:
        letters = [letter for store in _stores(transport) for letter in store.list(limit)]
    except EventBusError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        for letter in letters:
            click.echo(json.dumps(_summary(letter)))  # ASCII: every character escaped
        return
    rows: list[tuple[str, ...]] = [
        ("ID", "TRANSPORT", "HANDLER", "DELIVERIES", "ERROR", "EVENT", "DEAD AT")
    ]
    rows += [
        tuple(
            printable(cell)
            for cell in (
                letter.id,
                letter.transport,
                letter.handler_id,
                str(letter.deliveries),
                letter.error_class,
                _event(letter),
                letter.dead_at,
            )
        )
        for letter in letters
    ]
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


@dlq.command("show")
@click.argument("dead_letter_id")
@_TRANSPORT
def show(dead_letter_id: str, transport: str | None) -> None:
    """Everything about one dead letter, including the original event (payload included)."""
    _, letter = _find(_stores(transport), dead_letter_id)
    detail = _summary(letter)
    detail["reason"] = letter.reason
    detail["envelope"] = letter.envelope.to_dict() if letter.envelope else None
    detail["raw"] = letter.raw
    click.echo(printable(json.dumps(detail, indent=2, ensure_ascii=False), keep_newlines=True))


@dlq.command("replay")
@click.argument("ids", nargs=-1)
@_TRANSPORT
@click.option("--all", "replay_all", is_flag=True, help="Replay every dead letter (see --handler).")
@click.option("--handler", "handler", default=None, help="With --all: handler-id pattern.")
def replay(
    ids: tuple[str, ...], transport: str | None, replay_all: bool, handler: str | None
) -> None:
    """Put the original event back for its handler only; the dead letter is removed."""
    stores = _stores(transport)
    if replay_all == bool(ids):
        raise click.UsageError("give dead-letter ids, or --all")
    targets: list[tuple[DeadLetterStore, str]] = []
    if replay_all:
        for store in stores:
            targets += [
                (store, letter.id)
                for letter in store.list(1_000_000)
                if handler is None or fnmatchcase(letter.handler_id, handler)
            ]
    else:
        targets = [(store, letter.id) for store, letter in (_find(stores, i) for i in ids)]
    failed = 0
    done = [0]
    each = len(targets) <= REPLAY_LINES
    with counting("replayed", lambda: done[0], total=len(targets)):
        for store, dead_letter_id in targets:
            try:
                store.replay(dead_letter_id)
                if each:
                    click.echo(f"replayed {dead_letter_id} ({store.transport})")
            except (KeyError, ValueError, EventBusError) as exc:
                failed += 1
                click.echo(printable(f"not replayed {dead_letter_id}: {exc}"), err=True)
            done[0] += 1
    click.echo(f"replayed {len(targets) - failed} of {len(targets)} dead letter(s)")
    if failed:
        raise click.ClickException(f"{failed} dead letter(s) not replayed")


@dlq.command("purge")
@click.argument("ids", nargs=-1)
@_TRANSPORT
@click.option("--all", "purge_all", is_flag=True, help="Delete every dead letter.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation with --all.")
def purge(ids: tuple[str, ...], transport: str | None, purge_all: bool, yes: bool) -> None:
    """Delete dead letters for good."""
    stores = _stores(transport)
    if purge_all == bool(ids):
        raise click.UsageError("give dead-letter ids, or --all")
    if purge_all:
        if not yes:
            click.confirm("delete every dead letter?", abort=True)
        deleted = sum(store.purge(None) for store in stores)
    else:
        deleted = sum(_find(stores, i)[0].purge(i) for i in ids)
    click.echo(f"deleted {deleted} dead letter(s)")


def _event(letter: DeadLetter) -> str:
    return f"{letter.envelope.type} {letter.envelope.id}" if letter.envelope else "(malformed)"


def _summary(letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": letter.id,
        "transport": letter.transport,
        "handler_id": letter.handler_id,
        "deliveries": letter.deliveries,
        "error_class": letter.error_class,
        "event_type": letter.envelope.type if letter.envelope else None,
        "event_id": letter.envelope.id if letter.envelope else None,
        "dead_at": letter.dead_at,
    }
