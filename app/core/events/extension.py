"""Flask integration: configure the bus from ``app.config`` and carry the correlation id.

``init_app`` validates the bus settings, builds the transports the routes name, configures the
process-wide ``event_bus`` and keeps the result in ``app.extensions["eventbus"]``. Each request
takes its correlation id from a valid ``X-Request-ID`` header (or gets a new one), binds it in
the logs and in every event the request publishes, and returns it in ``X-Request-ID``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import Token
from dataclasses import dataclass, field
from typing import Any

import structlog
from flask import Flask, Response, g, request

import transports as transport_registry
from app.core.events import context
from app.core.events.bus import INPROCESS, EventBus
from app.core.events.envelope import new_event_id
from app.core.events.exceptions import ConfigurationError
from app.core.events.instrumentation import HOOK
from app.core.events.payloads import check_declared_payload
from app.core.events.routing import Router
from app.core.events.transport import Transport

__all__ = ["EventBusState", "init_app", "prepare_transports"]

REQUEST_ID_HEADER = "X-Request-ID"


@dataclass
class EventBusState:
    """What ``init_app`` built, in ``app.extensions["eventbus"]``."""

    bus: EventBus
    router: Router
    transports: dict[str, Transport] = field(default_factory=dict)


def init_app(app: Flask, bus: EventBus) -> EventBusState:
    """Configure ``bus`` for ``app``; :class:`ConfigurationError` lists every bad setting."""
    config = app.config
    _check_settings(config)
    router = Router(
        config["EVENTBUS_TRANSPORT"],
        dict(config["EVENTBUS_ROUTES"]),
        transport_registry.TRANSPORT_MODULES,
    )
    transports = {
        name: transport_registry.build(name, config)
        for name in sorted(router.transport_names())
        if name != INPROCESS
    }
    bus.configure(
        router=router,
        transports=transports,
        strict=bool(config["EVENTBUS_STRICT"]),
        validate=bool(config["EVENTBUS_VALIDATE_PAYLOADS"]),
        max_payload_bytes=int(config["EVENTBUS_MAX_PAYLOAD_BYTES"]),
        max_json_depth=int(config["EVENTBUS_MAX_JSON_DEPTH"]),
        log_full_errors=bool(config["EVENTBUS_LOG_FULL_ERRORS"]),
        raise_handler_errors=bool(config["EVENTBUS_RAISE_HANDLER_ERRORS"]),
        schema_check=check_declared_payload,
    )
    HOOK.full_errors = bool(config["EVENTBUS_LOG_FULL_ERRORS"])  # observers' redaction
    state = EventBusState(bus, router, transports)
    app.extensions["eventbus"] = state
    app.before_request(_bind_request_id)
    app.after_request(_echo_request_id)
    app.teardown_request(_unbind_request_id)
    return state


def prepare_transports(state: EventBusState) -> None:
    """Give each remote transport the subscriptions routed to it (creates groups, queues)."""
    subscriptions = state.bus.subscriptions()
    for name, transport in state.transports.items():
        transport.prepare([sub for sub in subscriptions if sub.transport == name])


def _check_settings(config: Mapping[str, Any]) -> None:
    problems = []
    if not isinstance(config["EVENTBUS_ROUTES"], Mapping):
        problems.append("EVENTBUS_ROUTES must be a mapping of handler-id pattern to transport")
    for key in ("EVENTBUS_MAX_PAYLOAD_BYTES", "EVENTBUS_MAX_DELIVERIES"):
        value = config[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.append(f"{key} must be a positive integer, got {value!r}")
    if not str(config["EVENTBUS_KEY_PREFIX"]).strip():
        problems.append("EVENTBUS_KEY_PREFIX must not be empty")
    if problems:
        raise ConfigurationError("invalid event bus settings:\n  - " + "\n  - ".join(problems))


def _bind_request_id() -> None:
    value = context.valid_request_id(request.headers.get(REQUEST_ID_HEADER)) or new_event_id()
    g.request_id = value
    g.request_id_token = context.set_correlation_id(value)
    structlog.contextvars.bind_contextvars(correlation_id=value)


def _echo_request_id(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def _unbind_request_id(exc: BaseException | None) -> None:
    token: Token[str | None] | None = g.pop("request_id_token", None)
    if token is not None:
        context.reset_correlation_id(token)
    structlog.contextvars.unbind_contextvars("correlation_id")
