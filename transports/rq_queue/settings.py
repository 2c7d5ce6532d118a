"""The RQ transport's settings, read once from the app config and checked together.

Naming (every name the bus gives RQ carries ``EVENTBUS_KEY_PREFIX``, since RQ fixes its own
key prefix ``rq:``):

- queue ``<prefix>:<EVENTBUS_RQ_QUEUES[module] or EVENTBUS_RQ_QUEUE>``, where the module is the
  first part of the handler id (``notifications`` for ``notifications.on_patient_created``);
- job id ``<prefix>-<32 hex>``, a digest of the event id and the handler id, so the same
  (event, handler) always names the same job (RQ allows only ``[A-Za-z0-9_-]`` in job ids);
- duplicate marker ``<prefix>:rq:dedup:<job id>``, written by the bus itself.

Thread safety: an :class:`RQSettings` is immutable.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.core.events.exceptions import ConfigurationError

from ..redis_common import mask_url, parse_address

__all__ = ["RQSettings"]

_JOB_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_QUEUE_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,100}")


@dataclass(frozen=True)
class RQSettings:
    """Everything the RQ transport, its workers and its dead-letter store read from config."""

    redis_url: str
    key_prefix: str
    default_queue: str
    module_queues: Mapping[str, str] = field(default_factory=dict)
    result_ttl: int = 60
    max_deliveries: int = 5
    retry_intervals: tuple[int, ...] = (1, 5, 30, 120)
    job_timeout: int = 180
    dedup_ttl: int = 3600

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RQSettings:
        """Read and check the ``EVENTBUS_*`` keys; ``ConfigurationError`` lists every problem."""
        problems: list[str] = []
        url = str(config.get("EVENTBUS_REDIS_URL", "redis://127.0.0.1:6379/0"))
        try:
            topology = parse_address(url).topology
        except ValueError as exc:
            problems.append(f"EVENTBUS_REDIS_URL: {exc}")
        else:
            if topology == "cluster":
                problems.append(
                    f"EVENTBUS_REDIS_URL is a Redis Cluster ({mask_url(url)}): RQ does not "
                    "support Redis Cluster (a job's commands span several slots); give RQ "
                    "one Redis or a redis+sentinel:// master, or route these handlers to "
                    "redis-streams"
                )
        prefix = str(config.get("EVENTBUS_KEY_PREFIX", "eventbus")).strip()
        if not prefix:
            problems.append("EVENTBUS_KEY_PREFIX must not be empty")
        default_queue = config.get("EVENTBUS_RQ_QUEUE", "eventbus")
        if not isinstance(default_queue, str) or not _QUEUE_NAME.fullmatch(default_queue):
            problems.append(
                f"EVENTBUS_RQ_QUEUE must be a queue name ([A-Za-z0-9_.:-]), got {default_queue!r}"
            )
        module_queues = config.get("EVENTBUS_RQ_QUEUES") or {}
        if not isinstance(module_queues, Mapping):
            problems.append("EVENTBUS_RQ_QUEUES must map module names to queue names")
            module_queues = {}
        for module, queue in module_queues.items():
            if not isinstance(queue, str) or not _QUEUE_NAME.fullmatch(queue):
                problems.append(
                    f"EVENTBUS_RQ_QUEUES[{module!r}] must be a queue name, got {queue!r}"
                )
        numbers = {
            key: _integer(config, key, default, minimum, problems)
            for key, default, minimum in (
                ("EVENTBUS_RQ_RESULT_TTL", 60, 0),
                ("EVENTBUS_MAX_DELIVERIES", 5, 1),
                ("EVENTBUS_RQ_JOB_TIMEOUT", 180, 1),
                ("EVENTBUS_RQ_DEDUP_TTL", 3600, 0),
            )
        }
        intervals = config.get("EVENTBUS_RQ_RETRY_INTERVALS", [1, 5, 30, 120])
        if (
            not isinstance(intervals, list | tuple)
            or not intervals
            or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in intervals)
        ):
            problems.append(
                "EVENTBUS_RQ_RETRY_INTERVALS must be a non-empty list of seconds (integers >= 0), "
                f"got {intervals!r}"
            )
            intervals = [0]
        if problems:
            raise ConfigurationError(
                "invalid RQ transport settings:\n  - " + "\n  - ".join(problems)
            )
        return cls(
            redis_url=url,
            key_prefix=prefix,
            default_queue=str(default_queue),
            module_queues={str(k): str(v) for k, v in module_queues.items()},
            result_ttl=numbers["EVENTBUS_RQ_RESULT_TTL"],
            max_deliveries=numbers["EVENTBUS_MAX_DELIVERIES"],
            retry_intervals=tuple(intervals),
            job_timeout=numbers["EVENTBUS_RQ_JOB_TIMEOUT"],
            dedup_ttl=numbers["EVENTBUS_RQ_DEDUP_TTL"],
        )

    def queue_for(self, handler_id: str) -> str:
        """The full RQ queue name of ``handler_id``'s jobs."""
        module = handler_id.split(".", 1)[0]
        return self.full_queue_name(self.module_queues.get(module, self.default_queue))

    def full_queue_name(self, name: str) -> str:
        """``<prefix>:<name>``: what RQ (``rq worker``, ``rq info``) calls the queue ``name``."""
        return f"{self.key_prefix}:{name}"

    def queue_names(self) -> list[str]:
        """Every full queue name the configuration routes bus jobs to, default first."""
        names = [self.default_queue, *sorted(set(self.module_queues.values()))]
        return [self.full_queue_name(name) for name in dict.fromkeys(names)]

    def job_id(self, event_id: str, handler_id: str) -> str:
        """The deterministic RQ job id of one (event, handler) delivery."""
        digest = hashlib.blake2b(f"{event_id}\x1f{handler_id}".encode(), digest_size=16).hexdigest()
        return f"{_JOB_ID_UNSAFE.sub('_', self.key_prefix)}-{digest}"

    def job_id_prefix(self) -> str:
        """What every bus job id of this prefix starts with (for tools and tests)."""
        return f"{_JOB_ID_UNSAFE.sub('_', self.key_prefix)}-"

    def dedup_key(self, job_id: str) -> str:
        """The bus's own duplicate marker for ``job_id`` (kept ``dedup_ttl`` seconds)."""
        return f"{self.key_prefix}:rq:dedup:{job_id}"

    def retry_schedule(self) -> list[int]:
        """Seconds before each retry: exactly ``max_deliveries - 1`` values, the last repeated.

        RQ itself reuses the FIRST interval once a job has more retries than intervals, so the
        list is always padded to full length here.
        """
        retries = self.max_deliveries - 1
        intervals = list(self.retry_intervals[:retries])
        return intervals + [self.retry_intervals[-1]] * (retries - len(intervals))


def _integer(
    config: Mapping[str, Any], key: str, default: int, minimum: int, problems: list[str]
) -> int:
    value = config.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        problems.append(f"{key} must be an integer >= {minimum}, got {value!r}")
        return default
    return value
