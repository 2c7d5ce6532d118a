"""``flask events rq-command`` prints RQ's own ``rq worker`` line for the app's settings."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

import pytest

from app.cli.rq_command import format_command
from app.core.events import event_bus
from tests.support.schema import make_app


@pytest.fixture
def unloaded() -> Iterator[None]:
    yield
    event_bus.remove_owned("loader")


@pytest.mark.usefixtures("unloaded")
def test_the_line_follows_the_prefix_queues_and_masks_the_password() -> None:
    app = make_app(
        {
            "TESTING": True,
            "EVENTBUS_KEY_PREFIX": "clinic",
            "EVENTBUS_RQ_QUEUES": {"billing": "money"},
            "EVENTBUS_REDIS_URL": "redis://:hunter2@redis.internal:6380/3",
        }
    )
    result = app.test_cli_runner().invoke(args=["events", "rq-command"])
    assert result.exit_code == 0, result.output
    argv = shlex.split(result.output)
    assert argv[:2] == ["rq", "worker"]
    assert argv[-2:] == ["clinic:eventbus", "clinic:money"]
    assert argv[argv.index("--url") + 1] == "redis://:***@redis.internal:6380/3"
    assert "hunter2" not in result.output
    worker_class = argv[argv.index("--worker-class") + 1]
    module, _, name = worker_class.rpartition(".")
    assert name == "BusWorker" and __import__(module, fromlist=[name])


def test_format_puts_one_option_per_line() -> None:
    text = format_command(["rq", "worker", "--url", "redis://x", "--burst", "q 1"])
    assert text == "rq worker \\\n  --url redis://x \\\n  --burst 'q 1'"
