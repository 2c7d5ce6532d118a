"""The nesting-depth bound of payloads (``EVENTBUS_MAX_JSON_DEPTH``), one check for both sides.

``publish()`` applies :func:`check_depth` to every payload it validates, and a worker applies
it again to every payload it reads (``EventBus.admit``), so a worker accepts no deeper payload
than ``publish()`` would have sent. Depth counts containers: ``{}`` is 1, ``{"a": [1]}`` is 2.

The check walks without recursion (an explicit stack), so a hostile payload cannot exhaust the
interpreter's stack here; it stops at the first container past the limit. Payloads decoded
from JSON cannot be deeper than the decoder's own recursion limit: ``decode_payload`` turns
that ``RecursionError`` into a ``ValueError`` before anything walks the result.
"""

from __future__ import annotations

from typing import Any

from .exceptions import PayloadEncodingError

__all__ = ["DEFAULT_MAX_JSON_DEPTH", "check_depth", "depth_over"]

DEFAULT_MAX_JSON_DEPTH = 32
"""The default of ``EVENTBUS_MAX_JSON_DEPTH``: far deeper than any event needs."""

_CONTAINERS = (dict, list, tuple)


def depth_over(payload: Any, limit: int) -> str | None:
    """The path of the first container nested deeper than ``limit``, or ``None`` if none is."""
    stack: list[tuple[Any, str, int]] = [(payload, "payload", 1)]
    while stack:
        value, path, depth = stack.pop()
        if depth > limit:
            return path
        if isinstance(value, dict):
            items: Any = value.items()
        elif isinstance(value, list | tuple):
            items = enumerate(value)
        else:
            continue
        for key, item in items:
            if isinstance(item, _CONTAINERS):
                stack.append((item, f"{path}[{key!r:.40}]", depth + 1))
    return None


def check_depth(payload: Any, limit: int) -> None:
    """Raise :class:`PayloadEncodingError` if ``payload`` nests containers deeper than ``limit``."""
    path = depth_over(payload, limit)
    if path is not None:
        raise PayloadEncodingError(
            f"{path[:200]} is nested deeper than {limit} levels "
            "(EVENTBUS_MAX_JSON_DEPTH): flatten it"
        )
