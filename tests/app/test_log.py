"""Logging: configured once, level-filtered, and the bus's debug line follows the level."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from structlog.testing import capture_logs

from app.core.events import EventBus, EventType
from app.log import configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    yield
    configure_logging("WARNING", "json")


@pytest.mark.usefixtures("restore_logging")
def test_publish_is_logged_at_debug_only_when_debug_is_on() -> None:
    bus = EventBus()
    bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="t.noop")
    configure_logging("INFO", "json")
    with capture_logs() as quiet:
        bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1"})
    configure_logging("DEBUG", "json")
    with capture_logs() as loud:
        bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1"})
    assert quiet == []
    assert loud == [
        {"event": "event.published", "event_type": "patient.created", "handlers": 1,
         "log_level": "debug", "logger": "eventbus"}
    ]  # fmt: skip


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_in_production(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from app.log import get_logger

    configure_logging("INFO", "json")
    get_logger("t").info("hello", answer=42)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "hello" and line["answer"] == 42 and line["level"] == "info"
    assert "timestamp" in line


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT='xml'"):
        configure_logging("INFO", "xml")
