"""A cluster client made while no node answers: built on first use, never at construction."""

from __future__ import annotations

import pytest
from redis.cluster import ClusterNode

from tests.support.redis_server import free_port
from tests.support.redis_topologies import RedisClusterSetup
from transports.redis_common import connect, is_cluster
from transports.redis_common.deferred_cluster import ClusterUnreachableError, DeferredCluster


def test_a_cluster_url_with_no_node_answering_gives_a_client_that_raises_on_use() -> None:
    client = connect(f"redis+cluster://:secret@127.0.0.1:{free_port()}", "publisher")
    assert isinstance(client, DeferredCluster) and is_cluster(client)
    client.close()  # before any use: nothing to close, nothing tried
    for _ in range(2):  # tried again on each use
        with pytest.raises(ClusterUnreachableError) as refused:
            client.ping()
        assert "secret" not in str(refused.value)
    client.close()


@pytest.mark.redis
def test_a_deferred_client_works_once_a_node_answers(redis_cluster: RedisClusterSetup) -> None:
    port = redis_cluster.nodes[0].port
    client = DeferredCluster(startup_nodes=[ClusterNode("127.0.0.1", port)])  # type: ignore[no-untyped-call]
    try:
        assert client.ping() is True
        primaries = client.get_primaries()  # type: ignore[no-untyped-call]
        assert len(primaries) == len(redis_cluster.nodes)
    finally:
        client.close()
