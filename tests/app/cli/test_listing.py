"""``flask events list``: events, where they are published, their handlers and transports."""

from __future__ import annotations

from app.core.events import EventType, event_bus
from tests.support.schema import make_app

HEADER = ["EVENT", "PUBLISHED BY", "HANDLER", "TRANSPORT"]


def table(package: str) -> list[list[str]]:
    """The rows of ``events list`` for an app on ``package``, cut at the header's columns."""
    app = make_app({"MODULES_PACKAGE": package, "TESTING": True})
    try:
        result = app.test_cli_runner().invoke(args=["events", "list"])
    finally:
        event_bus.remove_owned("loader")
    assert result.exit_code == 0, result.output
    header, *lines = result.output.splitlines()
    starts = [header.index(title) for title in HEADER]
    bounds = list(zip(starts, [*starts[1:], None], strict=True))
    assert [header[a:b].strip() for a, b in bounds] == HEADER
    return [[line[a:b].strip() for a, b in bounds] for line in lines]


def test_list_shows_every_event_with_handlers_and_transports() -> None:
    rows = table("tests.app.modules.samples.valid")
    assert [row[0] for row in rows if row[0]] == [str(member) for member in EventType]
    assert rows[:2] == [
        ["patient.created", "-", "beta.on_patient_event", "inprocess"],
        ["", "", "beta.on_everything", "inprocess"],
    ]
    assert ["invoice.paid", "-", "beta.on_everything", "inprocess"] in rows


def test_list_shows_where_each_event_is_published() -> None:
    rows = table("tests.app.architecture.samples.clean")
    service = "tests/app/architecture/samples/clean/alpha/service.py"
    created = next(row for row in rows if row[0] == "patient.created")
    assert created[1].startswith(f"alpha ({service}:")
    assert created[2:] == ["beta.on_patient_created", "inprocess"]
    assert ["notification.sent", "-", "-", "-"] in rows
