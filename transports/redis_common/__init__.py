"""What both Redis transports (``redis_streams`` and ``rq_queue``) share, in one place.

``connection`` (a client per role from ``EVENTBUS_REDIS_URL``), ``urls`` (:func:`mask_url`:
passwords out of every message), ``text`` (one bytes → str rule), ``stream_ids`` (parsing and
ordering entry ids), ``errors`` (which exceptions a Redis call raises; operator commands see
``TransportError``) and ``processes`` (each process's routing and heartbeat). Nothing here
imports ``app``'s factory or either transport.
"""

from __future__ import annotations

from .addresses import RedisAddress, Topology, parse_address
from .connection import RedisClient, Role, connect, connect_master, is_cluster
from .errors import REDIS_ERRORS, describe_error, redis_errors_as_transport_errors
from .processes import processes_key, read_processes, record_process
from .stream_ids import id_ms, is_stream_id, next_id, parse_id
from .text import text
from .urls import MASK, mask_url

__all__ = [
    "MASK",
    "REDIS_ERRORS",
    "RedisAddress",
    "RedisClient",
    "Role",
    "Topology",
    "connect",
    "connect_master",
    "describe_error",
    "id_ms",
    "is_cluster",
    "is_stream_id",
    "mask_url",
    "next_id",
    "parse_address",
    "parse_id",
    "processes_key",
    "read_processes",
    "record_process",
    "redis_errors_as_transport_errors",
    "text",
]
