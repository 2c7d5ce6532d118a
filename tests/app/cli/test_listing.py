"""``flask events list``."""

from __future__ import annotations

from app import create_app
from app.core.events import event_bus


def test_list_shows_every_event_with_handlers_and_transports() -> None:
    app = create_app({"MODULES_PACKAGE": "tests.app.modules.samples.valid", "TESTING": True})
    try:
        result = app.test_cli_runner().invoke(args=["events", "list"])
    finally:
        event_bus.remove_owned("loader")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["EVENT", "HANDLER", "TRANSPORT"]
    rows = [line.split() for line in lines[1:]]
    assert ["patient.created", "beta.on_patient_event", "inprocess"] in rows
    assert ["invoice.paid", "beta.on_everything", "inprocess"] in rows
