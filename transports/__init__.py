"""Transports by name. Each lives in its own file; broker libraries are imported only there.

``build(name, config)`` imports the transport's module on first use, so the base install
(in-process only) never imports ``redis`` or ``rq``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from app.core.events.exceptions import ConfigurationError, TransportNotInstalledError
from app.core.events.transport import Transport

__all__ = ["TRANSPORT_MODULES", "ProcessBoard", "build", "connection_errors", "process_board"]

TRANSPORT_MODULES: dict[str, str] = {
    "inprocess": "transports.inprocess",
    "redis-streams": "transports.redis_streams",
    "rq": "transports.rq_queue",
}
_EXTRAS = {"redis-streams": "redis", "rq": "redis"}


def build(name: str, config: Mapping[str, Any]) -> Transport:
    """A ready transport named ``name`` built from app ``config``.

    Raises :class:`ConfigurationError` for an unknown name (listing the valid ones) and
    :class:`TransportNotInstalledError` when the transport's extra is not installed.
    """
    module_name = TRANSPORT_MODULES.get(name)
    if module_name is None:
        raise ConfigurationError(
            f"unknown transport {name!r}; valid transports: {', '.join(sorted(TRANSPORT_MODULES))}"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith(("redis", "rq", "hiredis")):
            raise TransportNotInstalledError(
                f"the {name!r} transport needs the {exc.name!r} package: "
                f"pip install 'flask-eventbus[{_EXTRAS.get(name, name)}]'"
            ) from exc
        raise
    transport: Transport = module.from_config(config)
    return transport


def connection_errors() -> tuple[type[BaseException], ...]:
    """The exceptions of the installed broker client that mean "the broker cannot be
    reached" (connection refused or lost, timeout, authentication); ``()`` without it."""
    try:
        from redis import exceptions
    except ImportError:
        return ()
    return (exceptions.ConnectionError, exceptions.TimeoutError)


class ProcessBoard:
    """Where the bus's processes record their routing and heartbeat (Redis, under the key
    prefix): see :mod:`transports.redis_common.processes`. Redis errors propagate."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        from .redis_common import connect

        self.prefix = str(config["EVENTBUS_KEY_PREFIX"])
        self.client = connect(str(config["EVENTBUS_REDIS_URL"]), "admin")

    def record(self, record: Mapping[str, Any], forget_after_s: float) -> None:
        """Write this process's record (its beat)."""
        from .redis_common import record_process

        record_process(self.client, self.prefix, record, forget_after_s)

    def processes(self) -> list[dict[str, Any]]:
        """Every live process's record."""
        from .redis_common import read_processes

        return read_processes(self.client, self.prefix)

    def close(self) -> None:
        """Close the connection."""
        self.client.close()


def process_board(config: Mapping[str, Any]) -> ProcessBoard | None:
    """The board of ``config``'s Redis; ``None`` when the Redis extra is not installed."""
    try:
        return ProcessBoard(config)
    except ModuleNotFoundError:
        return None
