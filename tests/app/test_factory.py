"""The app factory and its configuration: defaults, environment, start-up errors."""

from __future__ import annotations

import pytest
from flask import Flask

from app.config import SETTINGS, defaults, load_config
from app.core.events import ConfigurationError, event_bus
from tests.support.schema import make_app

EMPTY = {"MODULES_PACKAGE": "tests.app.modules.samples.empty", "TESTING": True}


def test_defaults_match_the_design() -> None:
    values = defaults()
    assert values["EVENTBUS_TRANSPORT"] == "inprocess"
    assert values["EVENTBUS_ROUTES"] == {}
    assert values["EVENTBUS_REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert values["EVENTBUS_KEY_PREFIX"] == "eventbus"
    assert values["EVENTBUS_STRICT"] is True
    assert values["EVENTBUS_RAISE_HANDLER_ERRORS"] is False
    assert values["EVENTBUS_VALIDATE_PAYLOADS"] is True
    assert values["EVENTBUS_MAX_PAYLOAD_BYTES"] == 65536
    assert values["EVENTBUS_MAX_DELIVERIES"] == 5
    assert values["ENABLED_MODULES"] is None
    assert all(setting.meaning for setting in SETTINGS.values())
    assert values["EVENTBUS_ROUTES"] is not SETTINGS["EVENTBUS_ROUTES"].default


def test_environment_overrides_defaults_and_arguments_override_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLASK_EVENTBUS_MAX_DELIVERIES", "9")
    monkeypatch.setenv("FLASK_EVENTBUS_STRICT", "false")
    monkeypatch.setenv("FLASK_EVENTBUS_MAX_PAYLOAD_BYTES", "1000")
    app = make_app({**EMPTY, "EVENTBUS_MAX_PAYLOAD_BYTES": 2000})
    assert app.config["EVENTBUS_MAX_DELIVERIES"] == 9
    assert app.config["EVENTBUS_STRICT"] is False
    assert app.config["EVENTBUS_MAX_PAYLOAD_BYTES"] == 2000
    assert event_bus.strict is False
    monkeypatch.undo()
    make_app(EMPTY)  # leave the singleton as the other tests expect it
    assert event_bus.strict is True


def test_database_url_is_read_unprefixed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1:5432/x")
    app = Flask("t")
    load_config(app, None)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1:5432/x"


def test_an_unknown_transport_is_a_start_up_error_listing_the_valid_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        make_app({**EMPTY, "EVENTBUS_TRANSPORT": "kafka"})
    assert (
        'EVENTBUS_TRANSPORT: must be one of "inprocess", "redis-streams", "rq", got \'kafka\''
        in str(caught.value)
    )


def test_an_unknown_routed_transport_is_reported_too() -> None:
    with pytest.raises(ConfigurationError, match=r"EVENTBUS_ROUTES: \['notifications\.\*'\] must"):
        make_app({**EMPTY, "EVENTBUS_ROUTES": {"notifications.*": "sqs"}})


def test_bad_settings_are_reported_all_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        make_app({**EMPTY, "EVENTBUS_MAX_DELIVERIES": 0, "EVENTBUS_KEY_PREFIX": " "})
    assert "EVENTBUS_MAX_DELIVERIES: must be an integer from 1" in str(caught.value)
    assert "EVENTBUS_KEY_PREFIX: must be a non-empty string" in str(caught.value)


def test_bad_log_settings_fail_clearly() -> None:
    with pytest.raises(ConfigurationError, match="LOG_LEVEL: must be one of"):
        make_app({**EMPTY, "LOG_LEVEL": "LOUD"})


def test_health_reports_transport_and_database() -> None:
    app = make_app(EMPTY)
    body = app.test_client().get("/health").get_json()
    assert body is not None
    assert body["status"] == "ok"
    assert body["bus"]["default_transport"] == "inprocess"
    assert body["database"] == {"backend": "sqlite", "ok": True}
