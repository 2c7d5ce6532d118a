"""Logging: configured once, level-filtered, and the bus's debug line follows the level."""

from __future__ import annotations

import runpy
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


@pytest.mark.usefixtures("restore_logging")
def test_stdlib_loggers_are_rendered_as_json_without_colour_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json
    import logging

    configure_logging("INFO", "json")
    logging.getLogger("werkzeug").info("\x1b[1m\x1b[31m%s\x1b[0m", "GET /health 200")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "GET /health 200"
    assert line["logger"] == "werkzeug" and line["level"] == "info" and "timestamp" in line


@pytest.mark.usefixtures("restore_logging")
def test_a_library_handler_set_up_before_the_app_gets_the_same_format() -> None:
    """``rq worker`` (and gunicorn) attach their own handlers before the app is built."""
    import io
    import json
    import logging

    stream = io.StringIO()
    rq_logger = logging.getLogger("rq.worker")
    level = rq_logger.level  # an in-process RQ worker run earlier may have raised it (RQ sets it)
    rq_logger.setLevel(logging.INFO)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    rq_logger.addHandler(handler)
    try:
        configure_logging("INFO", "json")
        rq_logger.warning("*** Listening on %s...", "eventbus:eventbus")
        line = json.loads(stream.getvalue().strip())
        assert line["event"] == "*** Listening on eventbus:eventbus..."
        assert line["logger"] == "rq.worker" and line["level"] == "warning"
    finally:
        rq_logger.removeHandler(handler)
        rq_logger.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_console_output_has_no_colour_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from app.log import get_logger

    configure_logging("INFO", "console")
    get_logger("t").warning("hello", answer=42)
    logging.getLogger("werkzeug").warning("\x1b[33mslow\x1b[0m")
    err = capsys.readouterr().err
    assert "hello" in err and "slow" in err and "answer=42" in err
    assert "\x1b" not in err


def test_gunicorn_with_a_bad_log_level_stops_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """gunicorn's arbiter configures logging before any app exists (``gunicorn.conf.py``):
    ``FLASK_LOG_LEVEL=bogus`` stopped it with a 25-line ValueError traceback."""
    from gunicorn.config import Config  # type: ignore[import-untyped]

    from app.architecture import PROJECT_ROOT
    from app.log import configure_from_environment

    logger_class = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))["logger_class"]
    monkeypatch.setenv("FLASK_LOG_LEVEL", "bogus")
    try:
        with pytest.raises(SystemExit) as stopped:
            logger_class(Config())
    finally:
        monkeypatch.undo()
        configure_from_environment()
    assert str(stopped.value) == (
        "Error: LOG_LEVEL='bogus': use one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
    )
