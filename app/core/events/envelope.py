"""The event envelope: one shape, JSON, for every transport.

An ``Envelope`` is built only when something needs it: a remote transport, a handler that asks
through :func:`~app.core.events.current_event`, a nested publish that needs its causation id,
or a handler error that must be logged with the event id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .exceptions import MalformedEnvelopeError
from .payload import decode_payload, encode_payload
from .stamps import new_event_id, trace_context, utc_timestamp

__all__ = ["ENVELOPE_FIELDS", "Envelope", "new_event_id", "trace_context", "utc_timestamp"]

# fmt: off
ENVELOPE_FIELDS = (
    "id", "type", "version", "occurred_at", "producer", "correlation_id", "causation_id",
    "payload",
)
_COMPARED = (
    "id", "type", "payload", "correlation_id", "causation_id", "producer", "version",
    "occurred_at",
)
"""The fields two envelopes are equal by (the encoded payload and trace context are not)."""
# fmt: on
_MAX_ID_LENGTH = 128


class Envelope:
    """One published event with its metadata; ``payload`` is the published dict.

    Immutable by contract: nothing assigns to an envelope's fields after it is built (mypy
    refuses it: they are ``Final``); :meth:`replace` returns a changed copy. A plain class
    with ``__slots__`` rather than a frozen dataclass because every published and every
    delivered event builds one, and a frozen dataclass's ``__init__`` (one
    ``object.__setattr__`` per field) costs about five times as much. Equal when the fields
    of :data:`_COMPARED` are; not hashable (the payload is a dict).

    An envelope whose payload is decoded on first access (:meth:`with_encoded_payload`) is
    a :class:`_DeferredEnvelope`: only that subclass has a ``__getattr__``, because a class
    with one pays for the hook on EVERY attribute read (about 140 instructions each, some
    30 reads per delivered event), not only on the missing one.
    """

    __slots__ = (
        "causation_id",
        "correlation_id",
        "encoded_payload",
        "id",
        "occurred_at",
        "payload",
        "producer",
        "traceparent",
        "tracestate",
        "type",
        "version",
    )
    __hash__ = None  # type: ignore[assignment]

    def __init__(  # noqa: PLR0917  (positional, as the dataclass was: decode_entry uses it)
        self,
        id: str,
        type: str,
        payload: dict[str, Any],
        correlation_id: str,
        causation_id: str | None = None,
        producer: str = "",
        version: int = 1,
        occurred_at: str | None = None,
        encoded_payload: str | None = None,
        traceparent: str | None = None,
        tracestate: str | None = None,
    ) -> None:
        self.id: Final = id
        self.type: Final = type
        self.payload: Final = payload
        self.correlation_id: Final = correlation_id
        self.causation_id: Final = causation_id
        self.producer: Final = producer
        self.version: Final = version
        self.occurred_at: Final = utc_timestamp() if occurred_at is None else occurred_at
        self.encoded_payload: Final = encoded_payload
        """The payload's JSON text once known (read, stored, or encoded by :meth:`payload_json`)."""
        self.traceparent: Final = traceparent
        """W3C trace context of the publishing span (tracing on), else ``None``."""
        self.tracestate: Final = tracestate
        """W3C ``tracestate`` that goes with ``traceparent``, if any."""

    def replace(self, **changes: Any) -> Envelope:
        """A copy with ``changes`` (field name → value); ``TypeError`` for an unknown name.

        A new ``payload`` drops the kept encoding (unless ``encoded_payload`` is given too);
        a payload not decoded yet (:meth:`with_encoded_payload`) stays undecoded.
        """
        unknown = changes.keys() - set(Envelope.__slots__)
        if unknown:
            raise TypeError(f"Envelope has no field(s) {', '.join(sorted(unknown))}")
        if "payload" in changes:
            changes.setdefault("encoded_payload", None)
        copy = object.__new__(type(self))
        for name in Envelope.__slots__:
            if name in changes:
                value = changes[name]
            else:
                try:  # object's own lookup, not __getattr__: an undecoded payload stays so
                    value = object.__getattribute__(self, name)
                except AttributeError:
                    continue
            object.__setattr__(copy, name, value)
        return copy

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Envelope):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _COMPARED)

    def __repr__(self) -> str:
        shown = (*_COMPARED, "traceparent", "tracestate")
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"Envelope({fields})"

    @classmethod
    def with_encoded_payload(
        cls,
        *,
        id: str,
        type: str,
        encoded_payload: str,
        correlation_id: str,
        causation_id: str | None,
        producer: str,
        version: int,
        occurred_at: str,
        traceparent: str | None = None,
        tracestate: str | None = None,
    ) -> Envelope:
        """An envelope whose ``payload`` is decoded from ``encoded_payload`` on first access.

        For envelopes read back from storage this process wrote (the outbox): forwarding one
        to Redis Streams sends the stored text as is and never parses it. A payload that turns
        out not to be a JSON object raises :class:`MalformedEnvelopeError` when accessed.
        ``traceparent`` and ``tracestate`` are kept as given: the caller checks them
        (:func:`trace_context`).
        """
        envelope = object.__new__(_DeferredEnvelope)
        assign = object.__setattr__
        assign(envelope, "id", id)
        assign(envelope, "type", type)
        assign(envelope, "correlation_id", correlation_id)
        assign(envelope, "causation_id", causation_id)
        assign(envelope, "producer", producer)
        assign(envelope, "version", version)
        assign(envelope, "occurred_at", occurred_at)
        assign(envelope, "encoded_payload", encoded_payload)
        assign(envelope, "traceparent", traceparent)
        assign(envelope, "tracestate", tracestate)
        return envelope

    def payload_json(self) -> str:
        """The payload as JSON, encoded at most once per envelope."""
        encoded = self.encoded_payload
        if encoded is None:
            encoded = encode_payload(self.payload)
            object.__setattr__(self, "encoded_payload", encoded)  # a cache, not a change
        return encoded

    def to_fields(self) -> dict[str, str]:
        """Flat string fields (a Redis stream entry): ``payload`` is JSON, the rest plain text.
        ``traceparent`` and ``tracestate`` are there only when set."""
        fields = {
            "id": self.id,
            "type": self.type,
            "version": str(self.version),
            "occurred_at": self.occurred_at,
            "producer": self.producer,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id or "",
            "payload": self.payload_json(),
        }
        if self.traceparent:
            fields["traceparent"] = self.traceparent
            if self.tracestate:
                fields["tracestate"] = self.tracestate
        return fields

    @classmethod
    def from_fields(cls, fields: Mapping[Any, Any]) -> Envelope:
        """Rebuild an envelope from flat fields (``bytes`` or ``str``).

        Raises :class:`MalformedEnvelopeError` naming the first problem found: a missing or
        empty field, a bad version, a payload that is not a JSON object.
        """
        text: Mapping[str, str] = (
            fields
            if all(type(k) is str and type(v) is str for k, v in fields.items())
            else {_text(key): _text(value) for key, value in fields.items()}
        )
        missing = [name for name in ("id", "type", "payload", "occurred_at") if not text.get(name)]
        if missing:
            raise MalformedEnvelopeError(f"missing field(s): {', '.join(missing)}")
        if len(text["id"]) > _MAX_ID_LENGTH:
            raise MalformedEnvelopeError("the id is longer than 128 characters")
        try:
            version = int(text.get("version") or 1)
            payload = decode_payload(text["payload"])
        except ValueError as exc:
            raise MalformedEnvelopeError(f"bad version or payload: {exc}") from exc
        return cls(
            id=text["id"],
            type=text["type"],
            payload=payload,
            correlation_id=text.get("correlation_id") or text["id"],
            causation_id=text.get("causation_id") or None,
            producer=text.get("producer", ""),
            version=version,
            occurred_at=text["occurred_at"],
            encoded_payload=text["payload"],
            **trace_context(text.get("traceparent"), text.get("tracestate")),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (RQ job arguments): like ``to_fields`` with ``payload`` as a dict."""
        return {
            "id": self.id,
            "type": self.type,
            "version": self.version,
            "occurred_at": self.occurred_at,
            "producer": self.producer,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "payload": self.payload,
            **({"traceparent": self.traceparent} if self.traceparent else {}),
            **({"tracestate": self.tracestate} if self.traceparent and self.tracestate else {}),
        }

    @classmethod
    def from_dict(cls, data: Any) -> Envelope:
        """Rebuild from :meth:`to_dict` output (decoded JSON: the payload is not re-encoded).

        Raises :class:`MalformedEnvelopeError` naming the first problem: not a dict, a
        missing or empty or non-string field, an over-long id, a bad version, a payload that
        is not an object.
        """
        if not isinstance(data, dict):
            raise MalformedEnvelopeError(f"the envelope is a {type(data).__name__}, not a dict")
        missing = [name for name in ("id", "type", "payload", "occurred_at") if not data.get(name)]
        if missing and not (missing == ["payload"] and data.get("payload") == {}):
            raise MalformedEnvelopeError(f"missing field(s): {', '.join(missing)}")
        payload = data["payload"]
        if type(payload) is not dict:
            raise MalformedEnvelopeError("bad version or payload: the payload is not an object")
        text = {
            name: data.get(name)
            for name in ("id", "type", "occurred_at", "producer", "correlation_id", "causation_id")
        }
        wrong = [
            name for name, value in text.items() if value is not None and type(value) is not str
        ]
        if wrong:
            raise MalformedEnvelopeError(f"field(s) {', '.join(wrong)} must be strings")
        if len(data["id"]) > _MAX_ID_LENGTH:
            raise MalformedEnvelopeError("the id is longer than 128 characters")
        version = data.get("version", 1)
        if type(version) is not int or version < 1:
            raise MalformedEnvelopeError(f"bad version or payload: version {version!r}")
        return cls(
            id=data["id"],
            type=data["type"],
            payload=payload,
            correlation_id=data.get("correlation_id") or data["id"],
            causation_id=data.get("causation_id") or None,
            producer=data.get("producer") or "",
            version=version,
            occurred_at=data["occurred_at"],
            **trace_context(data.get("traceparent"), data.get("tracestate")),
        )


class _DeferredEnvelope(Envelope):
    """An :class:`Envelope` whose ``payload`` slot stays unset until first read, then is
    decoded from ``encoded_payload`` (see :meth:`Envelope.with_encoded_payload`)."""

    __slots__ = ()

    if not TYPE_CHECKING:  # invisible to mypy, which would otherwise accept any attribute

        def __getattr__(self, name: str) -> Any:
            """Called only for an unset slot: decode a deferred ``payload``."""
            if name != "payload" or self.encoded_payload is None:
                raise AttributeError(name)
            try:
                payload = decode_payload(self.encoded_payload)
            except ValueError as exc:
                raise MalformedEnvelopeError(f"event {self.id}: bad payload: {exc}") from exc
            object.__setattr__(self, "payload", payload)
            return payload


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError as exc:
            raise MalformedEnvelopeError(f"a field is not UTF-8: {exc}") from exc
    return str(value)
