"""Recorded handler errors carry no payload value and no SQL detail unless asked to."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from app.core.events import EventBus, EventType
from app.core.events.redaction import (
    REDACTED,
    RedactedError,
    describe_error,
    log_fields,
    redacted_error,
)

MARKER = "canary-7f3a"
PAYLOAD = {"patient_id": "p1", "clinic_id": "c1", "email": f"{MARKER}@example.org"}


def _raise(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_payload_strings_are_replaced_in_any_message() -> None:
    exc = ValueError(f"bad {PAYLOAD['email']} in {PAYLOAD!r}")
    text = describe_error(exc, PAYLOAD)
    assert MARKER not in text
    assert text.startswith("ValueError: bad [redacted] in ") and REDACTED in text
    assert describe_error(exc, PAYLOAD, full=True) == f"ValueError: {exc}"


def test_nested_and_escaped_payload_strings_are_replaced() -> None:
    payload = {"a": {"b": [f"x{MARKER}\n'quoted'"]}}
    exc = KeyError(repr(payload))
    assert MARKER not in describe_error(exc, payload)


def test_a_sqlite_constraint_error_is_reduced_to_class_code_and_constraint() -> None:
    engine = sa.create_engine("sqlite://", hide_parameters=True)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE people (email TEXT UNIQUE)"))
        conn.execute(sa.text("INSERT INTO people VALUES (:e)"), {"e": MARKER})
        with pytest.raises(sa.exc.IntegrityError) as caught:
            conn.execute(sa.text("INSERT INTO people VALUES (:e)"), {"e": MARKER})
    text = describe_error(caught.value, {"email": "other"})
    assert MARKER not in text and "INSERT" not in text
    assert text == (
        "IntegrityError (IntegrityError): SQLITE_CONSTRAINT_UNIQUE, constraint people.email"
    )


def test_a_driver_error_with_sqlstate_keeps_code_and_constraint_only() -> None:
    class Diag:
        constraint_name = "patients_email_key"

    class UniqueViolation(Exception):  # noqa: N818  (psycopg's name)
        sqlstate = "23505"
        diag = Diag()

    exc = UniqueViolation(f"duplicate key\nDETAIL: Key (email)=({MARKER}) already exists.")
    assert describe_error(exc) == ("UniqueViolation: SQLSTATE 23505, constraint patients_email_key")
    assert describe_error(sqlite3.OperationalError("database is locked")).startswith(
        "OperationalError"
    )


def test_log_fields_hold_the_stack_but_no_message() -> None:
    exc = _raise(ValueError(f"bad {MARKER}"))
    fields = log_fields(exc, {"email": MARKER})
    assert MARKER not in str(fields) and "_raise" in fields["stack"]
    assert log_fields(exc, {}, full=True) == {"exc_info": exc}


@pytest.mark.parametrize("full", [False, True])
def test_the_in_process_failure_log_is_redacted_unless_full_errors(
    bus: EventBus, full: bool
) -> None:
    bus.raise_handler_errors = False
    bus.configure(log_full_errors=full)

    def broken(payload: dict[str, Any]) -> None:
        raise ValueError(f"bad {payload['email']}")

    bus.subscribe(EventType.PATIENT_CREATED, broken, handler_id="t.broken")
    with capture_logs() as logs:
        bus.publish(EventType.PATIENT_CREATED, PAYLOAD)
    [entry] = [log for log in logs if log["event"] == "handler.failed"]
    assert (MARKER in str(entry)) is full


def test_observers_get_a_redacted_error_without_the_traceback_object() -> None:
    def handler(payload: dict[str, Any]) -> None:
        secret = payload["email"]  # a frame local: a locals-capturing reporter would show it
        raise ValueError(f"bad {secret}")

    try:
        handler(PAYLOAD)
    except ValueError as caught:
        exc = caught
    error = redacted_error(exc, PAYLOAD)
    assert isinstance(error, RedactedError)
    assert (str(error), error.message, error.error_class) == (
        "ValueError: bad [redacted]",
        "bad [redacted]",
        "ValueError",
    )
    assert "in handler" in error.stack and MARKER not in error.stack
    assert error.__traceback__ is None and error.__cause__ is None and error.__context__ is None
    assert redacted_error(error) is error
    full = redacted_error(exc, PAYLOAD, full=True)
    assert full.message == f"bad {PAYLOAD['email']}", "EVENTBUS_LOG_FULL_ERRORS keeps it whole"
