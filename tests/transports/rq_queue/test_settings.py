"""RQ settings: checked together at start-up; names carry the key prefix; growing retries."""

from __future__ import annotations

import pytest
from rq.job import JOB_ID_PATTERN

from app.core.events import ConfigurationError
from transports import build
from transports.rq_queue import RQSettings, RQTransport, mask_url, resolve_queues


def test_every_bad_setting_is_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        RQSettings.from_config(
            {
                "EVENTBUS_REDIS_URL": "http://:pw@host/0",
                "EVENTBUS_RQ_QUEUE": "has space",
                "EVENTBUS_RQ_QUEUES": {"billing": 3},
                "EVENTBUS_RQ_RESULT_TTL": -1,
                "EVENTBUS_MAX_DELIVERIES": 0,
                "EVENTBUS_RQ_RETRY_INTERVALS": [1, -5],
                "EVENTBUS_RQ_JOB_TIMEOUT": "soon",
                "EVENTBUS_RQ_DEDUP_TTL": True,
            }
        )
    message = str(caught.value)
    for key in (
        "EVENTBUS_REDIS_URL",
        "EVENTBUS_RQ_QUEUE must",
        "EVENTBUS_RQ_QUEUES['billing']",
        "EVENTBUS_RQ_RESULT_TTL",
        "EVENTBUS_MAX_DELIVERIES",
        "EVENTBUS_RQ_RETRY_INTERVALS",
        "EVENTBUS_RQ_JOB_TIMEOUT",
        "EVENTBUS_RQ_DEDUP_TTL",
    ):
        assert key in message
    assert "pw" not in message, "the password is masked"


def test_build_makes_the_transport_from_app_config() -> None:
    transport = build("rq", {"EVENTBUS_KEY_PREFIX": "shop", "EVENTBUS_RQ_QUEUES": {"b": "bq"}})
    assert isinstance(transport, RQTransport) and transport.name == "rq"
    assert transport.settings.queue_names() == ["shop:eventbus", "shop:bq"]
    transport.close()
    transport.close()


def test_names_carry_the_prefix_and_job_ids_are_stable_and_valid() -> None:
    settings = RQSettings.from_config(
        {"EVENTBUS_KEY_PREFIX": "my app:v1", "EVENTBUS_RQ_QUEUES": {"billing": "money"}}
    )
    assert settings.queue_for("billing.on_paid") == "my app:v1:money"
    assert settings.queue_for("notifications.on_paid") == "my app:v1:eventbus"
    job_id = settings.job_id("e1", "billing.on_paid#2")
    assert JOB_ID_PATTERN.fullmatch(job_id) and job_id.startswith("my_app_v1-")
    assert job_id == settings.job_id("e1", "billing.on_paid#2")
    assert job_id != settings.job_id("e1", "billing.on_paid")
    assert job_id != settings.job_id("e2", "billing.on_paid#2")
    assert settings.dedup_key(job_id) == f"my app:v1:rq:dedup:{job_id}"


@pytest.mark.parametrize(
    ("deliveries", "intervals", "schedule"),
    [
        (5, [1, 5, 30, 120], [1, 5, 30, 120]),
        (6, [1, 5], [1, 5, 5, 5, 5]),
        (3, [1, 5, 30, 120], [1, 5]),
        (1, [1, 5], []),
    ],
)
def test_the_retry_schedule_has_one_interval_per_retry(
    deliveries: int, intervals: list[int], schedule: list[int]
) -> None:
    settings = RQSettings.from_config(
        {"EVENTBUS_MAX_DELIVERIES": deliveries, "EVENTBUS_RQ_RETRY_INTERVALS": intervals}
    )
    assert settings.retry_schedule() == schedule


def test_worker_queues_accept_short_or_full_configured_names() -> None:
    settings = RQSettings.from_config({"EVENTBUS_RQ_QUEUES": {"billing": "money"}})
    assert resolve_queues(settings) == ["eventbus:eventbus", "eventbus:money"]
    assert resolve_queues(settings, ["money", "eventbus:eventbus"]) == [
        "eventbus:money",
        "eventbus:eventbus",
    ]
    with pytest.raises(ConfigurationError, match="unknown RQ queue"):
        resolve_queues(settings, ["other"])


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://:secret@h:6379/0", "redis://:***@h:6379/0"),
        ("rediss://user:secret@h/1", "rediss://user:***@h/1"),
        ("redis://h:6379/0", "redis://h:6379/0"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked
