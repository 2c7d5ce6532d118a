"""``flask events rq-command`` prints a line RQ's own CLI runs, for every URL form the bus takes.

RQ's ``rq worker --url`` builds its client with ``Redis.from_url``, which cannot read
``redis+sentinel://``: the printed line then names ``--connection-class
transports.rq_queue.BusRedis``. Run here for real against a master, a replica and three
Sentinels on loopback (``tests/support/redis_topologies.py``): the printed line, run as
printed (plus ``--burst``), serves the bus's queue on the master the Sentinels name. A Redis
Cluster URL, which RQ cannot use, gets one line saying so and exit status 1.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
import redis

from app.core.events import EventBus, EventType, Router
from tests.support.flask_cli import run_flask
from tests.support.redis_topologies import SentinelSetup
from tests.support.rq_workers import BIN, REPO_ROOT, app_environment, delete_rq_keys
from tests.transports.rq_queue.conftest import SAMPLE_PACKAGE
from transports.redis_common import connect_master
from transports.rq_queue import BusRedis, RQSettings, RQTransport

pytestmark = [pytest.mark.redis, pytest.mark.slow]  # real Sentinels and worker processes


def printed_line(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_flask("events", "rq-command", env=env)


def test_the_sentinel_line_runs_as_printed(
    redis_sentinel: SentinelSetup, key_prefix: str, tmp_path: Path
) -> None:
    env = app_environment(
        redis_sentinel.url,
        key_prefix,
        tmp_path / "worker.db",
        MODULES_PACKAGE=SAMPLE_PACKAGE,
        EVENTBUS_VALIDATE_PAYLOADS=False,  # the sample payloads are not the clinic's
    )
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"  # `rq` as a user with the venv active runs it
    master = connect_master(redis_sentinel.url, socket_timeout=30)
    settings = RQSettings.from_config(
        {"EVENTBUS_REDIS_URL": redis_sentinel.url, "EVENTBUS_KEY_PREFIX": key_prefix}
    )
    transport = RQTransport(settings, connect_master(redis_sentinel.url))
    bus = EventBus()
    bus.configure(router=Router("rq", {}, {"inprocess", "rq"}), transports={"rq": transport})
    bus.subscribe(
        EventType.PATIENT_CREATED, lambda _: None, handler_id="rqsample.on_patient_created"
    )
    try:
        printed = printed_line(env)
        assert printed.returncode == 0, printed.stderr
        argv = shlex.split(printed.stdout)
        assert argv[argv.index("--url") + 1] == redis_sentinel.url
        assert argv[argv.index("--connection-class") + 1] == "transports.rq_queue.BusRedis"
        bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p-sentinel"})
        result = subprocess.run(
            ["bash", "-c", f"{printed.stdout.strip()} --burst --name {key_prefix}-sentinel"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert "Traceback" not in output, output
        handled = master.lrange(f"{key_prefix}:sample:on_patient_created", 0, -1)
        assert len(handled) == 1 and b"p-sentinel" in handled[0], output
    finally:
        transport.close()
        delete_rq_keys(master, key_prefix)
        master.close()


def test_bus_redis_reads_every_form_and_refuses_a_cluster() -> None:
    plain = BusRedis.from_url("redis://:pw@127.0.0.1:6379/3")
    assert plain.connection_pool.connection_kwargs["db"] == 3
    tls = BusRedis.from_url("rediss://127.0.0.1:6380/0")
    assert tls.connection_pool.connection_class is redis.SSLConnection
    sentinel = BusRedis.from_url("redis+sentinel://127.0.0.1:1,127.0.0.1:2/mymaster/2")
    assert sentinel.connection_pool.service_name == "mymaster"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="RQ does not support Redis Cluster") as refused:
        BusRedis.from_url("redis+cluster://:secret@127.0.0.1:7000")
    assert "secret" not in str(refused.value)


def test_a_cluster_url_gets_one_line_and_status_1(key_prefix: str, tmp_path: Path) -> None:
    env = app_environment("redis+cluster://:secret@127.0.0.1:7000", key_prefix, tmp_path / "c.db")
    env["FLASK_EVENTBUS_TRANSPORT"] = "inprocess"  # RQ itself refuses a cluster at start
    result = printed_line(env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Error: RQ cannot run on a Redis Cluster (EVENTBUS_REDIS_URL is "
        "redis+cluster://:***@127.0.0.1:7000): its commands span keys in several slots; give "
        "RQ one Redis or a redis+sentinel:// master"
    ]
