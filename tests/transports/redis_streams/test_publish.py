"""Publishing: one XADD per event, readable fields, groups ready first, clear errors."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from app.core.events import EventType, TransportError
from app.core.events.exceptions import ConfigurationError
from tests.support.redis_server import RedisServer, free_port
from tests.transports.redis_streams.harness import (
    StreamsRig,
    bounded_client,
    envelope,
    fast_settings,
    subscription,
)
from transports.redis_streams import (
    RedisStreamsTransport,
    StreamsSettings,
    connect,
    event_types_for,
    from_config,
    mask_url,
)


def _xadds(client: Any) -> int:
    return int(client.info("commandstats").get("cmdstat_xadd", {}).get("calls", 0))


def test_exactly_one_xadd_per_event_whatever_the_handler_count(
    private_redis: RedisServer, key_prefix: str
) -> None:
    client = bounded_client(private_redis.url)
    transport = RedisStreamsTransport(client, fast_settings(key_prefix, private_redis.url))
    subs = [subscription(f"t.h{n}") for n in range(5)]
    transport.prepare(subs)
    before = _xadds(client)
    for _ in range(10):
        transport.publish(envelope(), subs)
    assert _xadds(client) - before == 10
    assert client.xlen(f"{key_prefix}:stream:patient.created") == 10
    client.delete(f"{key_prefix}:stream:patient.created")
    client.close()


def test_the_entry_is_flat_readable_text(rig: StreamsRig) -> None:
    rig.bus.subscribe(EventType.PATIENT_CREATED, lambda p: None, handler_id="t.h")
    rig.bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1", "name": "Zoë"})
    [(_, fields)] = rig.client.xrange(rig.settings.keys.stream("patient.created"))
    text = {k.decode(): v.decode() for k, v in fields.items()}
    assert text["type"] == "patient.created" and text["version"] == "1"
    assert text["payload"] == '{"patient_id":"p1","name":"Zoë"}'
    assert set(text) == {
        "id", "type", "version", "occurred_at", "producer", "correlation_id", "causation_id",
        "payload",
    }  # fmt: skip
    rig.bus.clear()


def test_prepare_creates_a_group_per_handler_on_every_matching_stream_at_0(rig: StreamsRig) -> None:
    stream = rig.settings.keys.stream("patient.updated")
    rig.client.xadd(stream, envelope("patient.updated").to_fields())  # published before the group
    rig.transport.prepare([subscription("t.every", "patient.*"), subscription("t.one")])
    for event_type in event_types_for("patient.*"):
        groups = rig.client.xinfo_groups(rig.settings.keys.stream(event_type))
        assert "t.every" in {g["name"].decode() for g in groups}
    [group] = rig.client.xinfo_groups(stream)
    assert group["last-delivered-id"] == b"0-0", "created at 0: nothing published is skipped"
    rig.transport.prepare([subscription("t.one")])  # idempotent


def test_publish_creates_a_missing_group_before_writing(rig: StreamsRig) -> None:
    got: list[Any] = []
    rig.bus.subscribe(EventType.INVOICE_PAID, got.append, handler_id="t.late")
    rig.bus.publish(EventType.INVOICE_PAID, {"k": 1})  # no prepare() since subscribing
    rig.drain()
    assert got == [{"k": 1}]
    rig.bus.clear()


def test_publishing_while_redis_is_unreachable_raises_a_clear_error(key_prefix: str) -> None:
    url = f"redis://user:s3cret@127.0.0.1:{free_port()}/0"
    transport = from_config(
        {
            **{k: v for k, v in _defaults().items()},
            "EVENTBUS_REDIS_URL": url,
            "EVENTBUS_KEY_PREFIX": key_prefix,
        }
    )
    with pytest.raises(TransportError) as failure:
        transport.publish(envelope(), [subscription("t.h")])
    message = str(failure.value)
    assert "s3cret" not in message and "user:***@" in message
    assert isinstance(failure.value.__cause__, redis.ConnectionError)
    transport.close()
    transport.close()


def test_settings_are_checked_and_reported_together() -> None:
    with pytest.raises(ConfigurationError) as failure:
        StreamsSettings.from_config(
            {
                **_defaults(),
                "EVENTBUS_REDIS_URL": "http://x",
                "EVENTBUS_BATCH_SIZE": 0,
                "EVENTBUS_CLAIM_IDLE_MS": "soon",
            }
        )
    text = str(failure.value)
    assert "EVENTBUS_REDIS_URL" in text and "EVENTBUS_BATCH_SIZE" in text
    assert "EVENTBUS_CLAIM_IDLE_MS" in text


def test_mask_url_and_publisher_retries() -> None:
    assert mask_url("rediss://:pw@host:6380/1") == "rediss://:***@host:6380/1"
    assert mask_url("redis://host:6379/0") == "redis://host:6379/0"
    clients = [connect("redis://127.0.0.1:1/0", role) for role in ("publisher", "worker")]
    retries = [c.get_retry() for c in clients if isinstance(c, redis.Redis)]
    assert [retry.get_retries() if retry else None for retry in retries] == [2, 0]


def _defaults() -> dict[str, Any]:
    from app.config import defaults

    return defaults()


def test_publish_batch_writes_every_envelope_in_one_transaction(rig: StreamsRig) -> None:
    subs = [subscription("t.a"), subscription("t.b", "invoice.*")]
    items = [
        (envelope(n=1), subs[:1]),
        (envelope("invoice.paid", n=2), subs[1:]),
        (envelope(n=3), subs[:1]),
    ]
    rig.transport.publish_batch(items)
    keys = rig.settings.keys
    assert rig.client.xlen(keys.stream("patient.created")) == 2
    assert rig.client.xlen(keys.stream("invoice.paid")) == 1
    [group] = rig.client.xinfo_groups(keys.stream("invoice.paid"))
    assert group["name"] == b"t.b" and group["lag"] == 1


def test_prepare_tolerates_an_unreachable_redis_and_publish_then_fails_clearly(
    key_prefix: str,
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    transport = from_config(
        {**_defaults(), "EVENTBUS_REDIS_URL": url, "EVENTBUS_KEY_PREFIX": key_prefix}
    )
    transport.prepare([subscription("t.h")])  # the app starts anyway
    with pytest.raises(TransportError, match="could not create consumer groups"):
        transport.publish(envelope(), [subscription("t.h")])
    transport.close()


def test_a_handler_subscribed_later_to_a_published_type_gets_its_group_first(
    rig: StreamsRig,
) -> None:
    """The group check is skipped only while the type's subscriptions stay the same."""
    stream = rig.settings.keys.stream(EventType.INVOICE_PAID)
    rig.bus.subscribe(EventType.INVOICE_PAID, lambda payload: None, handler_id="t.first")
    rig.bus.publish(EventType.INVOICE_PAID, {"k": 1})
    rig.bus.subscribe(EventType.INVOICE_PAID, lambda payload: None, handler_id="t.later")
    rig.bus.publish(EventType.INVOICE_PAID, {"k": 2})  # no prepare(): publish makes the group
    groups = {group["name"].decode(): group for group in rig.client.xinfo_groups(stream)}
    assert set(groups) == {"t.first", "t.later"}
    assert groups["t.later"]["lag"] == 2  # made at 0 before the second XADD: sees both
    rig.bus.clear()
