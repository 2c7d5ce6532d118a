"""The fast path of a payload shape check: "does it fit?" answered with exact-type tests.

``publish()`` checks every payload against its declaration, so the common case (it fits)
must cost little: :func:`fast_check` compiles a shape into straight-line code testing
``type(value) is str`` field by field (no call per plain field, no message built). It
answers ``True`` only when the payload certainly fits; ``False`` means "ask the detailed
check", which either finds the problem and names it, or accepts a value the fast path does
not know (a ``str`` subclass such as a ``StrEnum`` member, a ``Mapping`` not a ``dict``).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from .payload_formats import TextFormat

__all__ = ["FastField", "fast_check"]

Check = Callable[[Any, str], str | None]
Predicate = Callable[[Any], bool]
FastField = tuple[str, bool, Any, Check]
"""``(name, required, annotation, detailed check)`` of one declared field."""

_EXACT: dict[Any, frozenset[type]] = {
    str: frozenset({str}),
    int: frozenset({int}),
    float: frozenset({int, float}),
    bool: frozenset({bool}),
    type(None): frozenset({type(None)}),
    None: frozenset({type(None)}),
}


def fast_check(fields: Sequence[FastField], name: str = "payload") -> Predicate:
    """A predicate that is ``True`` only for payloads that certainly fit ``fields``.

    The predicate is generated once per shape as straight-line code (as ``dataclasses``
    generates ``__init__``): a subscript (required) or ``in`` test (optional) and an
    exact-type test per field; no loop, no call for plain fields. Only declared field names
    (written with ``repr``) enter the source.
    """
    namespace: dict[str, Any] = {}
    required = [(i, field) for i, field in enumerate(fields) if field[1]]
    optional = [(i, field) for i, field in enumerate(fields) if not field[1]]
    lines = ["def fits(payload):", "    if type(payload) is not dict:", "        return False"]
    if required:
        lines.append("    try:")  # a try costs nothing in Python 3.11 until it raises
        for index, (key, _, hint, check) in required:
            lines.append(f"        value = payload[{key!r}]")
            lines += _tests(index, hint, check, namespace, "        ")
        lines += ["    except KeyError:", "        return False"]
    lines.append(f"    left = len(payload) - {len(required)}")
    for index, (key, _, hint, check) in optional:
        lines += [f"    if {key!r} in payload:", "        left -= 1"]
        lines.append(f"        value = payload[{key!r}]")
        lines += _tests(index, hint, check, namespace, "        ")
    lines.append("    return left == 0")
    code = compile("\n".join(lines), f"<fast check of {name}>", "exec")
    exec(code, namespace)  # noqa: S102 (source built above from declared names only)
    fits: Predicate = namespace["fits"]
    return fits


def _tests(
    index: int, hint: Any, check: Check, namespace: dict[str, Any], indent: str
) -> list[str]:
    """Source lines returning ``False`` unless ``value`` passes field ``index``'s tests."""
    allowed, deep = _node(hint, check)
    if len(allowed) == 1:
        namespace[f"type_{index}"] = next(iter(allowed))
        lines = [f"{indent}if type(value) is not type_{index}:"]
    else:
        namespace[f"types_{index}"] = allowed
        lines = [f"{indent}if type(value) not in types_{index}:"]
    lines.append(f"{indent}    return False")
    if isinstance(deep, TextFormat):
        namespace[f"parse_{index}"] = deep.parse
        lines += [
            f"{indent}try:",
            f"{indent}    parse_{index}(value)",
            f"{indent}except (TypeError, ValueError):",
            f"{indent}    return False",
        ]
    elif deep is not None:
        namespace[f"deep_{index}"] = deep
        lines += [f"{indent}if not deep_{index}(value):", f"{indent}    return False"]
    return lines


def _node(hint: Any, check: Check) -> tuple[frozenset[type], Predicate | TextFormat | None]:
    """The exact types a value may have, and a deeper test (or a text format to parse) when
    the type is not enough."""
    exact = _EXACT.get(hint)
    if exact is not None:
        return exact, None
    origin = get_origin(hint)
    if origin is Literal:
        values = get_args(hint)
        return frozenset(type(v) for v in values), lambda v: any(
            v == option and type(v) is type(option) for option in values
        )
    if origin is Union or origin is types.UnionType:
        parts = [_node(arg, check) for arg in get_args(hint)]
        allowed = frozenset().union(*(part[0] for part in parts))
        simple = all(part[1] is None for part in parts)
        return allowed, None if simple else _detailed(check)
    if origin is Annotated:
        base, *extras = get_args(hint)
        formats = [extra for extra in extras if isinstance(extra, TextFormat)]
        return _node(base, check)[0], formats[0] if formats else _detailed(check)
    if origin is list:
        return frozenset({list, tuple}), _detailed(check)
    return frozenset({dict}), _detailed(check)  # dict[str, X] and nested TypedDicts


def _detailed(check: Check) -> Predicate:
    return lambda value: check(value, "") is None
