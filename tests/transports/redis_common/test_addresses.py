"""EVENTBUS_REDIS_URL names one Redis, a cluster or a Sentinel master; bad forms are refused."""

from __future__ import annotations

import pytest
import redis
from redis.cluster import RedisCluster

from app.core.events.exceptions import ConfigurationError
from tests.support.redis_topologies import RedisClusterSetup, SentinelSetup
from transports.redis_common import connect, connect_master, is_cluster, parse_address
from transports.redis_streams import StreamsSettings


def test_the_three_forms() -> None:
    single = parse_address("rediss://:pw@h:6380/2")
    cluster = parse_address("redis+cluster://u:p%40w@10.0.0.1:7000,10.0.0.2")
    sentinel = parse_address(
        "redis+sentinel://:pw@s1:26379,[::1]:26380,s3/mymaster/3?sentinel_password=sp"
    )
    assert (single.topology, single.tls) == ("single", True)
    assert (cluster.topology, cluster.nodes, cluster.username, cluster.password) == (
        "cluster",
        (("10.0.0.1", 7000), ("10.0.0.2", 6379)),
        "u",
        "p@w",
    )
    assert (sentinel.topology, sentinel.master_name, sentinel.db, sentinel.nodes) == (
        "sentinel",
        "mymaster",
        3,
        (("s1", 26379), ("::1", 26380), ("s3", 26379)),
    )
    assert (sentinel.password, sentinel.sentinel_password) == ("pw", "sp")
    assert "pw" not in repr(sentinel) and "pw" not in str(sentinel)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://h:6379", "is not a Redis URL"),
        ("redis//:PW@host", "is not a Redis URL"),
        ("redis+sentinel://:PW@h:26379", "ends with /<master name>"),
        ("redis+sentinel://:PW@h:26379/m/x", "database must be a number"),
        ("redis+cluster://:PW@h:7000/3", "database 0 only"),
        ("redis+cluster://:PW@", "names no host"),
        ("redis+cluster://:PW@h:99999", "is not host:port"),
    ],
)
def test_bad_forms_are_refused_without_the_password(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as refused:
        parse_address(url)
    assert "PW" not in str(refused.value)
    with pytest.raises(ConfigurationError, match="EVENTBUS_REDIS_URL") as invalid:
        StreamsSettings.from_config({"EVENTBUS_REDIS_URL": url, "EVENTBUS_KEY_PREFIX": "p"})
    assert "PW" not in str(invalid.value)


def test_a_flat_layout_is_refused_on_a_cluster() -> None:
    with pytest.raises(ConfigurationError, match="cannot work on a Redis Cluster"):
        StreamsSettings.from_config(
            {
                "EVENTBUS_REDIS_URL": "redis+cluster://h:7000",
                "EVENTBUS_KEY_PREFIX": "p",
                "EVENTBUS_STREAMS_KEY_LAYOUT": "flat",
            }
        )


def test_clients_for_each_topology(
    redis_cluster: RedisClusterSetup, redis_sentinel: SentinelSetup
) -> None:
    cluster = connect(redis_cluster.url, "worker")
    master = connect(redis_sentinel.url, "publisher")
    try:
        assert isinstance(cluster, RedisCluster) and is_cluster(cluster)
        assert isinstance(master, redis.Redis) and not is_cluster(master)
        assert cluster.ping() and master.ping()
        with connect_master(redis_sentinel.url) as plain:
            assert plain.connection_pool.get_master_address()[1] == redis_sentinel.master_port()
        with pytest.raises(ValueError, match="RQ does not support Redis Cluster"):
            connect_master(redis_cluster.url)
    finally:
        cluster.close()
        master.close()
