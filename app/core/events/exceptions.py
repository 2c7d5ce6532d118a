"""Every exception the bus raises, under one base class.

Publish-time validation errors derive from :class:`EventValidationError`; when one is raised,
nothing was dispatched and nothing was written to any transport.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ConfigurationError",
    "DuplicateHandlerError",
    "EventBusError",
    "EventValidationError",
    "HandlerError",
    "MalformedEnvelopeError",
    "ModuleLoadError",
    "PayloadEncodingError",
    "PayloadSchemaError",
    "PayloadTooLargeError",
    "PayloadTypeError",
    "SchemaNotAtHeadError",
    "TransportError",
    "TransportNotInstalledError",
    "UnknownEventError",
    "UnknownHandlerError",
]


class EventBusError(Exception):
    """Base class of every error raised by the event bus."""


class ConfigurationError(EventBusError):
    """The bus or a transport is configured wrongly; raised at start-up, listing every problem."""


class ModuleLoadError(ConfigurationError):
    """A module manifest is inconsistent: missing dependency, cycle, duplicate name, bad handler."""


class SchemaNotAtHeadError(ConfigurationError):
    """The database schema is behind the migrations' head; the message names the command."""


class DuplicateHandlerError(EventBusError):
    """Two different callables were subscribed under the same handler id."""


class EventValidationError(EventBusError, ValueError):
    """``publish()`` refused its input; nothing was dispatched or written."""


class UnknownEventError(EventValidationError):
    """The event name is not a member of ``EventType`` (strict mode)."""


class PayloadTypeError(EventValidationError, TypeError):
    """The payload is not a ``dict``."""


class PayloadEncodingError(EventValidationError):
    """The payload would not cross JSON unchanged (datetime, Decimal, set, NaN, a cycle)."""


class PayloadTooLargeError(EventValidationError):
    """The encoded payload is larger than ``EVENTBUS_MAX_PAYLOAD_BYTES``."""


class PayloadSchemaError(EventValidationError):
    """The payload does not match the shape declared for its event type."""


class TransportError(EventBusError):
    """A transport could not accept an event; the event was not published on it."""


class TransportNotInstalledError(ConfigurationError):
    """A transport's optional dependencies are missing; the message names the extra to install."""


class MalformedEnvelopeError(EventBusError):
    """A message taken from a transport is not a valid event envelope."""


class UnknownHandlerError(EventBusError):
    """A message names a handler id that is not in this process's registry."""


class HandlerError(ExceptionGroup[Exception], EventBusError):
    """One or more handlers raised (only with ``EVENTBUS_RAISE_HANDLER_ERRORS``).

    Raised after every handler for the event has run; ``exceptions`` holds each error in
    subscription order and ``handler_ids`` the handler that raised it.
    """

    handler_ids: tuple[str, ...]

    def __new__(
        cls, message: str, exceptions: Sequence[Exception], handler_ids: Sequence[str] = ()
    ) -> HandlerError:
        self = super().__new__(cls, message, exceptions)
        self.handler_ids = tuple(handler_ids)
        return self

    def __init__(
        self, message: str, exceptions: Sequence[Exception], handler_ids: Sequence[str] = ()
    ) -> None:
        super().__init__(message, exceptions)

    def derive(self, excs: Sequence[Exception]) -> HandlerError:  # type: ignore[override]
        return HandlerError(self.message, excs, self.handler_ids)
