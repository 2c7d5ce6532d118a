"""``EVENTBUS_REDIS_URL`` naming a port where something other than Redis answers (an HTTP
server, a wrong port): the web app still starts, its publishes wait in the outbox, and
``/health/ready`` answers 503 naming the protocol error. Before, ``create_app()`` failed with
a traceback (``InvalidResponse: Protocol error, got "H" as reply type byte``).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.events import event_bus
from tests.support.schema import make_app


@pytest.fixture
def not_redis() -> Iterator[int]:
    """A loopback port whose server answers every connection as HTTP would, then closes."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with connection:
                connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=serve, name="not-redis", daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(10)
        listener.close()


def test_the_web_app_starts_when_no_redis_answers_at_its_address(
    not_redis: int, tmp_path: Path, key_prefix: str
) -> None:
    app = make_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'clinic.db'}",
            "EVENTBUS_TRANSPORT": "redis-streams",
            "EVENTBUS_REDIS_URL": f"redis://127.0.0.1:{not_redis}/0",
            "EVENTBUS_KEY_PREFIX": key_prefix,
            "EVENTBUS_OUTBOX_RELAY": "none",
        }
    )
    try:
        client = app.test_client()
        assert client.post("/patients", json={"full_name": "Ada"}).status_code == 201
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.get_json()["checks"]["transport:redis-streams"] == {
            "ok": False,
            "reason": "redis-streams: Redis did not answer (InvalidResponse)",
        }
    finally:
        for transport in app.extensions["eventbus"].transports.values():
            transport.close()
        event_bus.remove_owned("loader")
