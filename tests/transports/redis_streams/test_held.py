"""The publisher's per-thread connections (``held.py``) against a real Redis: one kept per
thread, replaced when the server drops it, clean after an error, never shared with a forked
child, back in the pool when the thread ends."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from app.core.events import EventType
from tests.support.redis_server import RedisServer
from tests.transports.redis_streams.harness import StreamsRig
from transports.redis_common import connect
from transports.redis_streams.held import ThreadConnections, command_sender

CLIENT_ID = ("CLIENT", "ID")


@pytest.fixture
def publisher(real_redis: RedisServer) -> Iterator[Any]:
    """A client as the transport gets one (``connect(url, "publisher")``: two retries)."""
    client = connect(real_redis.url, "publisher")
    try:
        yield client
    finally:
        client.close()


def test_a_thread_keeps_its_connection_and_another_thread_gets_its_own(publisher: Any) -> None:
    connections = ThreadConnections(publisher.connection_pool)
    mine = connections.execute(CLIENT_ID)
    assert connections.execute(CLIENT_ID) == mine, "kept between commands"
    theirs: list[int] = []
    thread = threading.Thread(target=lambda: theirs.append(connections.execute(CLIENT_ID)))
    thread.start()
    thread.join(timeout=30)
    assert theirs and theirs[0] != mine
    del thread
    gc.collect()  # the ended thread's holder is dropped: its connection is back in the pool
    back = publisher.connection_pool.get_connection()
    try:
        back.send_command(*CLIENT_ID)
        assert back.read_response() == theirs[0]
    finally:
        publisher.connection_pool.release(back)


def test_a_connection_the_server_dropped_is_replaced_within_the_command(
    publisher: Any, redis_client: Any
) -> None:
    connections = ThreadConnections(publisher.connection_pool)
    first = connections.execute(CLIENT_ID)
    assert redis_client.client_kill_filter(_id=first) == 1
    second = connections.execute(CLIENT_ID)  # the write fails, the retry reconnects
    assert second != first
    assert connections.execute(CLIENT_ID) == second


def test_an_error_reply_raises_and_the_next_command_starts_clean(
    publisher: Any, redis_client: Any, key_prefix: str
) -> None:
    connections = ThreadConnections(publisher.connection_pool)
    redis_client.set(f"{key_prefix}:text", "not a stream")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        connections.execute(("XADD", f"{key_prefix}:text", "*", "a", "b"))
    assert connections.execute(("PING",)) in (True, b"PONG")
    assert connections.execute(("XADD", f"{key_prefix}:stream", "*", "a", "b"))
    assert redis_client.xlen(f"{key_prefix}:stream") == 1


def test_a_forked_child_takes_a_connection_of_its_own(publisher: Any) -> None:
    connections = ThreadConnections(publisher.connection_pool)
    parent = connections.execute(CLIENT_ID)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its connection's id, then leave without any teardown
        try:
            os.write(writer, str(connections.execute(CLIENT_ID)).encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    assert child and int(child) != parent
    assert connections.execute(CLIENT_ID) == parent, "the parent's connection was left alone"


def test_other_clients_are_called_as_usual() -> None:
    class Other:
        def __init__(self) -> None:
            self.calls: list[tuple[Any, ...]] = []

        def execute_command(self, *args: Any) -> str:
            self.calls.append(args)
            return "ok"

    other = Other()
    assert command_sender(other)(("XADD", "s", "*", "a", "b")) == "ok"
    assert other.calls == [("XADD", "s", "*", "a", "b")]


def test_many_threads_publish_through_the_transport_at_once(
    redis_client: Any, rig: StreamsRig
) -> None:
    rig.bus.subscribe(EventType.PATIENT_CREATED, lambda payload: None, handler_id="t.held")
    rig.transport.prepare(rig.bus.subscriptions())
    errors: list[BaseException] = []

    def publish() -> None:
        try:
            for _ in range(100):
                rig.bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p" * 32})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert redis_client.xlen(rig.settings.keys.stream(EventType.PATIENT_CREATED)) == 400
