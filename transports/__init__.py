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

__all__ = ["TRANSPORT_MODULES", "build", "connection_errors"]

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
