"""Payload validation and the one JSON encoding every remote transport uses.

``check_payload`` walks the payload once, checking that JSON would carry every value unchanged,
and bounds the encoded size from above without encoding. Only when that bound is over the limit
does it encode for the exact size, and then it returns the encoded text so that nothing is
encoded twice. Remote transports call :func:`encode_payload`; so the in-process tests reject
exactly what Redis would not carry.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from .exceptions import PayloadEncodingError, PayloadTooLargeError, PayloadTypeError

__all__ = ["check_payload", "decode_payload", "encode_payload"]

_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_MAX_INT_BITS = 14_000  # about 4,200 digits, under CPython's int-to-str limit of 4,300

_HINTS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    ((datetime, date, time), "send an ISO 8601 string: value.isoformat()"),
    (Decimal, "send a string: str(value)"),
    (UUID, "send a string: str(value)"),
    ((set, frozenset), "send a sorted list: sorted(value)"),
    ((bytes, bytearray, memoryview), "send text, e.g. base64.b64encode(value).decode()"),
)


def encode_payload(payload: Mapping[str, Any]) -> str:
    """Encode a checked payload as compact JSON (UTF-8 text, no NaN, no ASCII escaping)."""
    return _ENCODER.encode(payload)


def decode_payload(text: str | bytes) -> dict[str, Any]:
    """Decode a payload encoded by :func:`encode_payload`; raise ``ValueError`` if not a dict."""
    value = json.loads(text)
    if type(value) is not dict:
        raise ValueError(f"payload is a JSON {type(value).__name__}, not an object")
    return value


def check_payload(payload: object, max_bytes: int) -> str | None:
    """Raise an ``EventValidationError`` unless ``payload`` crosses any transport unchanged.

    Returns the encoded payload when the check had to encode it to measure it exactly, else
    ``None``. Rejects: a non-dict, non-string keys, values JSON cannot encode (datetime,
    Decimal, set, bytes, objects), NaN and infinities, reference cycles, and payloads whose
    encoding is over ``max_bytes``.
    """
    if type(payload) is not dict:
        raise PayloadTypeError(
            f"the payload must be a dict, got {type(payload).__name__}: "
            "wrap the value, e.g. {'value': ...}"
        )
    bound = _dict_bound(payload, "payload", set())
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


def _dict_bound(value: dict[Any, Any], path: str, active: set[int]) -> int:
    marker = id(value)
    if marker in active:
        raise PayloadEncodingError(f"{path} contains itself (a reference cycle)")
    active.add(marker)
    total = 2
    for key, item in value.items():
        if type(key) is not str:
            raise PayloadEncodingError(
                f"{path} has a {type(key).__name__} key {key!r}: JSON keys are strings; "
                "convert the key with str()"
            )
        total += len(key) * 6 + 4 + _bound(item, f"{path}[{key!r}]", active)
    active.discard(marker)
    return total


def _bound(value: object, path: str, active: set[int]) -> int:
    """An upper bound of the encoded size of ``value`` in bytes (6 per char covers escapes)."""
    kind = type(value)
    if kind is str:
        return len(value) * 6 + 2  # type: ignore[arg-type]
    if kind is int or kind is bool or value is None:
        return _int_bound(value, path) if kind is int else 5
    if kind is float:
        return _float_bound(value, path)  # type: ignore[arg-type]
    if kind is dict:
        return _dict_bound(value, path, active)  # type: ignore[arg-type]
    if kind is list or kind is tuple:
        return _list_bound(value, path, active)  # type: ignore[arg-type]
    return _subclass_bound(value, path, active)


def _list_bound(value: list[Any] | tuple[Any, ...], path: str, active: set[int]) -> int:
    marker = id(value)
    if marker in active:
        raise PayloadEncodingError(f"{path} contains itself (a reference cycle)")
    active.add(marker)
    total = 2
    for index, item in enumerate(value):
        total += _bound(item, f"{path}[{index}]", active) + 1
    active.discard(marker)
    return total


def _subclass_bound(value: object, path: str, active: set[int]) -> int:
    """Subclasses of JSON types (StrEnum, IntEnum, OrderedDict…) encode as their base type."""
    if isinstance(value, str):
        return len(value) * 6 + 2
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return _int_bound(value, path)
    if isinstance(value, float):
        return _float_bound(value, path)
    if isinstance(value, dict):
        return _dict_bound(value, path, active)
    if isinstance(value, list | tuple):
        return _list_bound(value, path, active)
    for types, hint in _HINTS:
        if isinstance(value, types):
            raise PayloadEncodingError(
                f"{path} is a {type(value).__name__}, which JSON cannot encode: {hint}"
            )
    raise PayloadEncodingError(
        f"{path} is a {type(value).__name__}, which JSON cannot encode: "
        "send str, int, float, bool, None, list or dict values"
    )


def _int_bound(value: Any, path: str) -> int:
    bits: int = value.bit_length()
    if bits > _MAX_INT_BITS:
        raise PayloadEncodingError(f"{path} is an integer too large to encode: send it as a string")
    return bits * 3 // 10 + 3


def _float_bound(value: float, path: str) -> int:
    if not math.isfinite(value):
        raise PayloadEncodingError(
            f"{path} is {value!r}, which standard JSON cannot encode: send None or a string"
        )
    return 26
