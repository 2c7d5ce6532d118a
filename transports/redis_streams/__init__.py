"""The Redis Streams transport: one stream per event type, one consumer group per handler.

The package's public names are re-exported here; the modules beside this file hold them:
``transport`` (publishing and the operator hooks ``from_config``, ``dead_letter_store`` and
``stats`` that ``transports.build`` and ``transports.operations`` look up), ``worker`` (the
``flask events worker`` process: threads, signals, maintenance), ``assignment`` (which
handlers, streams and consumers a worker runs), ``consumer`` (one consumer
group's loop), ``delivery`` (one entry: checks, handler call, outcome), ``claim`` (taking
pending entries), ``dead_letters``, ``retention``, ``stats``, ``entries`` (entry decoding),
``keys``, ``settings`` and ``embedding`` (a worker inside tests or another process).
"""

from __future__ import annotations

from ..redis_common import connect, id_ms, mask_url, next_id
from .claim import (
    autoclaim,
    own_pending,
    parse_autoclaim,
    reacquire,
)
from .consumer import GroupConsumer
from .dead_letters import TRANSPORT_NAME, StreamsDeadLetterStore
from .delivery import EntryDelivery
from .entries import decode_entry
from .groups import ensure_group
from .keys import StreamKeys, event_types_for
from .retention import delete_idle_consumers, safe_trim_id, trim_stream
from .settings import StreamsSettings
from .transport import RedisStreamsTransport, dead_letter_store, from_config, stats
from .worker import (
    DEFAULT_STOP_TIMEOUT_S,
    DrainUnsettledError,
    StreamsWorker,
    WorkerCrashedError,
    WorkerStuckError,
    drain,
    running_worker,
    select_subscriptions,
)

__all__ = [
    "DEFAULT_STOP_TIMEOUT_S",
    "TRANSPORT_NAME",
    "DrainUnsettledError",
    "EntryDelivery",
    "GroupConsumer",
    "RedisStreamsTransport",
    "StreamKeys",
    "StreamsDeadLetterStore",
    "StreamsSettings",
    "StreamsWorker",
    "WorkerCrashedError",
    "WorkerStuckError",
    "autoclaim",
    "connect",
    "dead_letter_store",
    "decode_entry",
    "delete_idle_consumers",
    "drain",
    "ensure_group",
    "event_types_for",
    "from_config",
    "id_ms",
    "mask_url",
    "next_id",
    "own_pending",
    "parse_autoclaim",
    "reacquire",
    "running_worker",
    "safe_trim_id",
    "select_subscriptions",
    "stats",
    "trim_stream",
]
