"""Two Streams workers on one host never share a consumer by default."""

from __future__ import annotations

import os
import socket

import fakeredis

from app.core.events import EventBus
from tests.transports.redis_streams.harness import fast_settings, subscription
from transports.redis_streams import StreamsWorker


def test_the_default_worker_name_is_host_and_process(key_prefix: str) -> None:
    worker = StreamsWorker(
        EventBus(),
        fast_settings(key_prefix),
        [subscription("t.h")],
        concurrency=2,
        client=fakeredis.FakeRedis(),
    )
    try:
        assert worker.name == f"{socket.gethostname()}-{os.getpid()}"
        assert [worker.consumer(slot) for slot in range(2)] == [
            f"{worker.name}:0",
            f"{worker.name}:1",
        ]
    finally:
        worker.close()


def test_an_explicit_name_is_kept(key_prefix: str) -> None:
    worker = StreamsWorker(
        EventBus(),
        fast_settings(key_prefix),
        [subscription("t.h")],
        consumer_name="stable",
        client=fakeredis.FakeRedis(),
    )
    try:
        assert worker.name == "stable"
    finally:
        worker.close()
