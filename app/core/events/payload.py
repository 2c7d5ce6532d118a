"""Payload validation and the one JSON encoding every remote transport uses.

``check_payload`` walks the payload once, checking that JSON would carry every value
unchanged and that containers nest no deeper than the limit, and bounds the encoded size from
above without encoding (6 bytes per character covers every escape). Only when that bound is
over the limit does it encode to measure exactly, and then it returns the encoded text so
nothing is encoded twice. The walk keeps no state beyond the nesting depth; where a value is
rejected, a second walk finds its path for the message. Remote transports encode with
:func:`encode_payload`, so the in-process tests reject exactly what Redis would not carry.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic_core import to_json

from .exceptions import PayloadEncodingError, PayloadTooLargeError, PayloadTypeError

__all__ = [
    "DEFAULT_MAX_JSON_DEPTH",
    "MAX_DEPTH",
    "check_payload",
    "decode_payload",
    "encode_payload",
]

MAX_DEPTH = 64
"""The deepest nesting any setting may allow (``EVENTBUS_MAX_JSON_DEPTH`` is 1 to 64)."""
DEFAULT_MAX_JSON_DEPTH = 32
"""The default of ``EVENTBUS_MAX_JSON_DEPTH``: far deeper than any event needs. ``publish()``
checks it, and a worker checks every payload it reads again (``EventBus.admit``), so a worker
accepts no deeper payload than ``publish()`` would have sent."""
_MAX_INT_BITS = 14_000  # about 4,200 digits, under CPython's int-to-str limit of 4,300
_HINTS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    ((datetime, date, time), "send an ISO 8601 string: value.isoformat()"),
    (Decimal, "send a string: str(value)"),
    (UUID, "send a string: str(value)"),
    ((set, frozenset), "send a sorted list: sorted(value)"),
    ((bytes, bytearray, memoryview), "send text, e.g. base64.b64encode(value).decode()"),
)


def encode_payload(payload: Mapping[str, Any]) -> str:
    """Encode a checked payload as compact JSON (UTF-8 text, no NaN, no ASCII escaping).

    pydantic-core's serializer: about 0.55 µs for a five-field payload, where ``json``'s C
    encoder takes 0.9 µs. Its text is that of ``json.dumps(payload, ensure_ascii=False,
    allow_nan=False, separators=(",", ":"))`` (separators, escapes, integers, key order),
    except for some floats with a negative exponent (``json``'s ``1e-07`` is ``1e-7`` here,
    ``1e-05`` is ``0.00001``): the same number, read back equal by every JSON parser.
    ``test_encode_payload.py`` checks both on random payloads. Only for checked payloads
    (``check_payload``; every caller's payload is): where ``json`` raises for what the check
    refuses, this may encode it (a ``datetime`` as ISO text, a ``set`` as a list, NaN as
    ``NaN``) or raise.
    """
    return to_json(payload).decode()


def decode_payload(text: str | bytes) -> dict[str, Any]:
    """Decode a payload encoded by :func:`encode_payload`; ``ValueError`` if not an object.

    Every way the text can be bad is a ``ValueError``: not JSON, not UTF-8, or nested so deep
    that the decoder ran out of stack (a ``RecursionError`` inside ``json``, turned here).
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("the payload is nested too deeply to decode") from None
    if type(value) is not dict:
        raise ValueError(f"payload is a JSON {type(value).__name__}, not an object")
    return value


def check_payload(payload: object, max_bytes: int, max_depth: int = MAX_DEPTH) -> str | None:
    """Raise an ``EventValidationError`` unless ``payload`` crosses any transport unchanged.

    Returns the encoded payload when the check had to encode it to measure it exactly, else
    ``None``. Rejects: a non-dict, non-string keys, values JSON cannot encode (datetime,
    Decimal, set, bytes, objects), NaN and infinities, reference cycles, containers nested
    deeper than ``max_depth`` (``{}`` is depth 1, ``{"a": [1]}`` depth 2; at most
    ``MAX_DEPTH``, which keeps the recursive walk far from the interpreter's stack limit), and
    payloads whose encoding is over ``max_bytes``.
    """
    if type(payload) is not dict:
        raise PayloadTypeError(
            f"the payload must be a dict, got {type(payload).__name__}: "
            "wrap the value, e.g. {'value': ...}"
        )
    try:
        bound = _dict_bound(payload, 1, min(max_depth, MAX_DEPTH))
    except _RejectedError as rejected:
        raise PayloadEncodingError(_describe(payload, rejected, max_depth)) from None
    if bound <= max_bytes:
        return None
    encoded = encode_payload(payload)
    size = len(encoded.encode())
    if size > max_bytes:
        raise PayloadTooLargeError(
            f"the encoded payload is {size} bytes, over the limit of {max_bytes} "
            "(EVENTBUS_MAX_PAYLOAD_BYTES): send an id and let the handler load the data"
        )
    return encoded


class _RejectedError(Exception):
    """Internal: ``culprit`` (a value, a key, or a too-deep container) cannot be encoded."""

    def __init__(self, culprit: object, reason: str) -> None:
        self.culprit = culprit
        self.reason = reason


def _dict_bound(value: dict[Any, Any], depth: int, limit: int) -> int:
    if depth > limit:
        raise _RejectedError(value, "")
    total = 2
    for key, item in value.items():
        if type(key) is not str:
            raise _RejectedError(key, "")
        if not key.isascii():
            _check_text(key)
        if type(item) is str:
            if not item.isascii():
                _check_text(item)
            total += (len(key) + len(item)) * 6 + 6
        else:
            total += len(key) * 6 + 4 + _bound(item, depth + 1, limit)
    return total


def _list_bound(value: list[Any] | tuple[Any, ...], depth: int, limit: int) -> int:
    if depth > limit:
        raise _RejectedError(value, "")
    total = 2
    for item in value:
        total += _bound(item, depth + 1, limit) + 1
    return total


def _bound(value: object, depth: int, limit: int) -> int:  # noqa: PLR0911  (one branch per JSON type)
    """An upper bound of the encoded size of ``value`` in bytes."""
    kind = type(value)
    if kind is str:
        if not value.isascii():  # type: ignore[attr-defined]
            _check_text(value)  # type: ignore[arg-type]
        return len(value) * 6 + 2  # type: ignore[arg-type]
    if kind is int:
        return _int_bound(value)
    if kind is bool or value is None:
        return 5
    if kind is float:
        return _float_bound(value)  # type: ignore[arg-type]
    if kind is dict:
        return _dict_bound(value, depth, limit)  # type: ignore[arg-type]
    if kind is list or kind is tuple:
        return _list_bound(value, depth, limit)  # type: ignore[arg-type]
    return _subclass_bound(value, depth, limit)


def _subclass_bound(value: object, depth: int, limit: int) -> int:
    """Subclasses of JSON types (StrEnum, IntEnum, OrderedDict…) encode as their base type."""
    if isinstance(value, str):
        _check_text(value)
        return len(value) * 6 + 2
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return _int_bound(value)
    if isinstance(value, float):
        return _float_bound(value)
    if isinstance(value, dict):
        return _dict_bound(value, depth, limit)
    if isinstance(value, list | tuple):
        return _list_bound(value, depth, limit)
    raise _RejectedError(value, "")


def _check_text(text: str) -> None:
    """Reject text that is not valid Unicode for UTF-8 (a lone surrogate such as '\\ud800')."""
    try:
        text.encode()
    except UnicodeEncodeError:
        raise _RejectedError(
            text, "contains a lone surrogate, which UTF-8 cannot encode: fix how it was decoded"
        ) from None


def _int_bound(value: Any) -> int:
    bits: int = value.bit_length()
    if bits > _MAX_INT_BITS:
        raise _RejectedError(value, "is an integer too large to encode: send it as a string")
    return bits * 3 // 10 + 3


def _float_bound(value: float) -> int:
    if not math.isfinite(value):
        raise _RejectedError(value, f"is {value!r}, which standard JSON cannot encode: send None")
    return 26


# -- the error path: find where the culprit is and say what to do ---------------------------


def _describe(payload: dict[str, Any], rejected: _RejectedError, max_depth: int) -> str:
    culprit = rejected.culprit
    cycle = _find_cycle(payload, "payload", set(), min(max_depth, MAX_DEPTH) + 1)
    if cycle is not None:
        return f"{cycle} contains itself (a reference cycle): send plain, acyclic data"
    for path, obj, is_key in _walk(payload, "payload", 1, max_depth):
        if obj is culprit:
            return f"{path[:200]} {_reason(obj, is_key, rejected.reason, max_depth)}"
    return f"the payload {_reason(culprit, False, rejected.reason, max_depth)}"


def _reason(obj: object, is_key: bool, reason: str, max_depth: int) -> str:
    if reason:
        return reason
    if is_key:
        return f"has a {type(obj).__name__} key {obj!r}: JSON keys are strings; convert with str()"
    if isinstance(obj, dict | list | tuple):
        return f"is nested deeper than {max_depth} levels (EVENTBUS_MAX_JSON_DEPTH): flatten it"
    for types, hint in _HINTS:
        if isinstance(obj, types):
            return f"is a {type(obj).__name__}, which JSON cannot encode: {hint}"
    return (
        f"is a {type(obj).__name__}, which JSON cannot encode: "
        "send str, int, float, bool, None, list or dict values"
    )


def _walk(value: object, path: str, depth: int, limit: int) -> Iterator[tuple[str, object, bool]]:
    """(path, object, is_key) for every value and key, depth-first, in encoding order, down to
    the first containers past ``limit``."""
    yield path, value, False
    if depth > limit:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield path, key, True
            yield from _walk(item, f"{path}[{key!r:.40}]", depth + 1, limit)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]", depth + 1, limit)


def _find_cycle(value: object, path: str, active: set[int], room: int) -> str | None:
    """The path where ``value`` contains itself, looking ``room`` levels down at most (a cycle
    longer than that is reported as nesting too deep)."""
    if room < 0 or not isinstance(value, dict | list | tuple):
        return None
    if id(value) in active:
        return path
    active.add(id(value))
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        found = _find_cycle(item, f"{path}[{key!r:.40}]", active, room - 1)
        if found is not None:
            return found
    active.discard(id(value))
    return None
