"""The Redis Streams transport's settings, read once from app config.

``StreamsSettings.from_config`` validates every key it reads and reports all problems at once
(:class:`ConfigurationError`). Its clients come from ``redis_common.connect``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.core.events.exceptions import ConfigurationError

from ..redis_common import Topology, parse_address
from .keys import StreamKeys

__all__ = ["StreamsSettings"]

_POSITIVE = (
    "EVENTBUS_MAX_DELIVERIES",
    "EVENTBUS_CLAIM_IDLE_MS",
    "EVENTBUS_BLOCK_MS",
    "EVENTBUS_BATCH_SIZE",
    "EVENTBUS_RETRY_BACKOFF_MS",
    "EVENTBUS_MAINTENANCE_INTERVAL_MS",
    "EVENTBUS_CONSUMER_EXPIRY_MS",
)
_OPTIONAL = ("EVENTBUS_STREAM_MAXLEN", "EVENTBUS_STREAM_MAX_AGE_MS")
_LAYOUTS = ("auto", "flat", "hash-tagged")


@dataclass(frozen=True)
class StreamsSettings:
    """Everything the transport and its worker read from config. Immutable."""

    redis_url: str
    keys: StreamKeys
    max_deliveries: int = 5
    maxlen: int | None = 100_000
    max_age_ms: int | None = None
    claim_idle_ms: int = 60_000
    block_ms: int = 2_000
    batch_size: int = 100
    backoff_ms: int = 1_000
    maintenance_interval_ms: int = 30_000
    consumer_expiry_ms: int = 3_600_000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StreamsSettings:
        """Read and check the ``EVENTBUS_*`` keys; :class:`ConfigurationError` lists problems."""
        problems = [
            f"{key} must be a positive integer, got {config.get(key)!r}"
            for key in _POSITIVE
            if not _positive(config.get(key))
        ]
        problems += [
            f"{key} must be a positive integer or None, got {config.get(key)!r}"
            for key in _OPTIONAL
            if config.get(key) not in (None, 0) and not _positive(config.get(key))
        ]
        url = str(config.get("EVENTBUS_REDIS_URL") or "")
        topology: Topology = "single"
        try:
            topology = parse_address(url).topology
        except ValueError as exc:
            problems.append(f"EVENTBUS_REDIS_URL: {exc}")
        layout = config.get("EVENTBUS_STREAMS_KEY_LAYOUT") or "auto"
        if layout not in _LAYOUTS:
            problems.append(
                f"EVENTBUS_STREAMS_KEY_LAYOUT must be one of {', '.join(_LAYOUTS)}, got {layout!r}"
            )
        elif layout == "flat" and topology == "cluster":
            problems.append(
                "EVENTBUS_STREAMS_KEY_LAYOUT=flat cannot work on a Redis Cluster "
                "(its dead letters and replays would cross slots): use auto or hash-tagged"
            )
        prefix = str(config.get("EVENTBUS_KEY_PREFIX") or "").strip()
        if not prefix:
            problems.append("EVENTBUS_KEY_PREFIX must not be empty")
        if problems:
            raise ConfigurationError(
                "invalid Redis Streams settings:\n  - " + "\n  - ".join(problems)
            )
        return cls(
            redis_url=url,
            keys=StreamKeys(prefix, hash_tagged=_hash_tagged(layout, topology)),
            max_deliveries=int(config["EVENTBUS_MAX_DELIVERIES"]),
            maxlen=int(config.get("EVENTBUS_STREAM_MAXLEN") or 0) or None,
            max_age_ms=int(config.get("EVENTBUS_STREAM_MAX_AGE_MS") or 0) or None,
            claim_idle_ms=int(config["EVENTBUS_CLAIM_IDLE_MS"]),
            block_ms=int(config["EVENTBUS_BLOCK_MS"]),
            batch_size=int(config["EVENTBUS_BATCH_SIZE"]),
            backoff_ms=int(config["EVENTBUS_RETRY_BACKOFF_MS"]),
            maintenance_interval_ms=int(config["EVENTBUS_MAINTENANCE_INTERVAL_MS"]),
            consumer_expiry_ms=int(config["EVENTBUS_CONSUMER_EXPIRY_MS"]),
        )

    @property
    def claim_interval_s(self) -> float:
        """How often a consumer looks for idle entries to claim: idle/2, within 50 ms..5 s."""
        return min(5.0, max(0.05, self.claim_idle_ms / 2000))

    def retry_delay_s(self, deliveries: int) -> float:
        """The wait before delivery ``deliveries + 1``: the base doubled per delivery.

        Capped at half the claim idle time, so an entry waiting for its retry is never taken
        for the entry of a dead consumer and claimed by another one.
        """
        delay_ms = self.backoff_ms * 2 ** max(0, min(deliveries - 1, 30))
        return float(min(delay_ms, self.claim_idle_ms / 2)) / 1000


def _hash_tagged(layout: object, topology: Topology) -> bool:
    return layout == "hash-tagged" or (layout == "auto" and topology == "cluster")


def _positive(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
