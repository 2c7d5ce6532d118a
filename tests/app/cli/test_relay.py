"""``flask events relay``: refuses when the outbox is off; ``--burst`` sends what is due."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy.orm import Session

from app.core.events import event_bus
from app.core.outbox import EXTENSION, OutboxStore
from tests.app.outbox.test_store import envelope
from tests.support.redis_server import RedisServer, delete_prefix
from tests.support.schema import make_app


@pytest.fixture
def unloaded() -> Iterator[None]:
    yield
    event_bus.remove_owned("loader")


@pytest.mark.usefixtures("unloaded")
def test_the_relay_command_says_when_the_outbox_is_off() -> None:
    app = make_app({"TESTING": True})
    result = app.test_cli_runner().invoke(args=["events", "relay", "--burst"])
    assert result.exit_code == 1
    assert "the outbox is off: set EVENTBUS_OUTBOX=true" in result.output


@pytest.mark.redis
@pytest.mark.usefixtures("unloaded")
def test_a_burst_sends_the_committed_rows_to_redis_streams(
    real_redis: RedisServer, key_prefix: str, tmp_path: Path
) -> None:
    app = make_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'relay.db'}",
            "EVENTBUS_TRANSPORT": "redis-streams",
            "EVENTBUS_REDIS_URL": real_redis.url,
            "EVENTBUS_KEY_PREFIX": key_prefix,
            "EVENTBUS_OUTBOX": True,
            "EVENTBUS_OUTBOX_RELAY": "none",
        }
    )
    client: Any = redis.Redis.from_url(real_redis.url, decode_responses=True)
    try:
        store = app.extensions[EXTENSION].store
        with Session(store.engine) as session:
            for n in range(3):
                OutboxStore.add(session, envelope(n))
            session.commit()
        runner = app.test_cli_runner()
        result = runner.invoke(args=["events", "relay", "--burst"])
        assert result.exit_code == 0, result.output
        assert "sent 3 event(s)" in result.output
        [stream] = list(client.scan_iter(match=f"{key_prefix}*patient.created*", _type="STREAM"))
        ids = [fields["id"] for _, fields in client.xrange(stream)]
        assert ids == [envelope(n).id for n in range(3)]
        assert "sent 0 event(s)" in runner.invoke(args=["events", "relay", "--burst"]).output
    finally:
        delete_prefix(client, f"{key_prefix}*")
        client.close()
