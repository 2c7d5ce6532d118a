"""Consumer groups: each handler's group on each stream it reads, created before any read.

A group is created at id ``0`` with ``MKSTREAM``, so it sees every entry its stream holds and
the stream exists before the first ``XADD``. Used by the publisher (``prepare``), the worker
(at start and when Redis lost the group) and the dead-letter replay.
"""

from __future__ import annotations

from redis.exceptions import ResponseError

from ..redis_common import RedisClient

__all__ = ["ensure_group"]


def ensure_group(client: RedisClient, stream: str, group: str) -> bool:
    """Create ``group`` on ``stream`` at ``0`` (MKSTREAM); ``False`` if it already existed."""
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
        return False
    return True
