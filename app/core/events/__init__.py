"""The event bus: ``event_bus`` (the process-wide singleton) and everything a module needs.

>>> from app.core.events import event_bus, EventType
>>> event_bus.publish(EventType.PATIENT_CREATED, {"patient_id": "p1", "clinic_id": "c1"})
"""

from .bus import INPROCESS, EventBus
from .context import bind_correlation_id, correlation_id, current_event
from .envelope import Envelope
from .exceptions import (
    ConfigurationError,
    DuplicateHandlerError,
    EventBusError,
    EventValidationError,
    HandlerError,
    MalformedEnvelopeError,
    ModuleLoadError,
    PayloadEncodingError,
    PayloadSchemaError,
    PayloadTooLargeError,
    PayloadTypeError,
    TransportError,
    TransportNotInstalledError,
    UnknownEventError,
    UnknownHandlerError,
)
from .routing import Router
from .subscriptions import Handler, Subscription
from .transport import Transport
from .types import EventType

__all__ = [
    "INPROCESS",
    "ConfigurationError",
    "DuplicateHandlerError",
    "Envelope",
    "EventBus",
    "EventBusError",
    "EventType",
    "EventValidationError",
    "Handler",
    "HandlerError",
    "MalformedEnvelopeError",
    "ModuleLoadError",
    "PayloadEncodingError",
    "PayloadSchemaError",
    "PayloadTooLargeError",
    "PayloadTypeError",
    "Router",
    "Subscription",
    "Transport",
    "TransportError",
    "TransportNotInstalledError",
    "UnknownEventError",
    "UnknownHandlerError",
    "bind_correlation_id",
    "correlation_id",
    "current_event",
    "event_bus",
]

event_bus = EventBus()
"""The one bus of the process. ``create_app()`` configures it; tests reset it with ``clear()``."""
