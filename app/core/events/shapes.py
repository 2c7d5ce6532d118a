"""Declared payload shapes as plain-function walks: pydantic's acceptance, in one cheap pass.

Pydantic defines every declared payload (``payloads.py``) and words every error; this module
makes the common case cheap. :func:`compile_shape` reads a ``TypeAdapter``'s core schema once
and, if it knows every part, builds a :class:`ShapeWalk` out of closures (no code generation)
whose ``walk`` checks in one pass that pydantic would accept the payload (strict: exact types,
no undeclared field, required fields present) and that JSON carries it unchanged (no lone
surrogate, an integer small enough, a finite float), returning a bound of its encoded size.

The walk is sound, not complete: it raises :class:`Unsure` whenever it is not certain (a wrong
type, but also a ``str`` subclass or an ``IntEnum`` pydantic may accept); the caller then runs
the full checks, which decide. A shape of known parts has a fixed depth
(:attr:`ShapeWalk.depth`), so nesting needs no run-time check.

Known parts (anything else, any constraint or config key included, keeps the full checks):
strict ``TypedDict`` with ``extra="forbid"``; ``str``, ``int``, ``float`` (takes an ``int``),
``bool``, ``None``; ``X | None``; ``Literal`` of strings; ``list[X]``; ``dict[str, X]``; a
plain ``AfterValidator`` on a scalar (``IsoDateTime``: it is called, and any exception makes
the walk unsure); nested ``TypedDict``s (a shape used twice, or recursive, is referenced by
name: unknown). ``test_shapes.py`` checks on random shapes and payloads that a walk never
vouches for what the full checks refuse.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

__all__ = ["ShapeWalk", "Unsure", "compile_shape"]

Walk = Callable[[Any], int]
"""``walk(value)``: an upper bound of ``value``'s encoded size, or :class:`Unsure` raised."""
_MAX_INT_BITS = 14_000  # the JSON check's limit (payload.py): under CPython's int-to-str limit
_LEAF_KEYS = frozenset({"type", "strict", "metadata", "ref"})


class Unsure(Exception):  # noqa: N818  (not an error: "ask pydantic")
    """The walk cannot vouch for the value: run the full checks."""


class _UnsupportedError(Exception):
    """The schema has a part this module does not know."""


@dataclass(frozen=True, slots=True)
class ShapeWalk:
    """``walk(payload)`` bounds a fitting payload's encoded size, else raises :class:`Unsure`;
    a fitting payload nests at most ``depth`` levels deep."""

    walk: Walk
    depth: int


def compile_shape(schema: Mapping[str, Any]) -> ShapeWalk | None:
    """The walk of a pydantic core schema (``TypeAdapter(...).core_schema``), or ``None``
    when the schema has a part this module does not know."""
    try:
        walk, depth = _Compiler().compile(schema, strict=False)
    except _UnsupportedError:
        return None
    return ShapeWalk(walk, depth)


class _Compiler:
    """Turns core-schema nodes into ``(walk, depth)`` pairs."""

    def compile(self, node: Mapping[str, Any], strict: bool) -> tuple[Walk, int]:
        kind = node.get("type")
        if kind in _LEAVES:
            _only(node, _LEAF_KEYS)
            if not _strict(node, strict):
                raise _UnsupportedError
            return _LEAVES[kind], 0
        builder = _BUILDERS.get(kind)  # type: ignore[arg-type]
        if builder is None:
            raise _UnsupportedError
        return builder(self, node, strict)

    def typed_dict(self, node: Mapping[str, Any], strict: bool) -> tuple[Walk, int]:
        _only(node, {"type", "fields", "extra_behavior", "config", "cls", "computed_fields",
                     "ref", "metadata", "strict"})  # fmt: skip
        config = node.get("config", {})
        _only(config, {"title", "strict", "extra_fields_behavior"})
        strict = node.get("strict", config.get("strict", strict))
        extra = node.get("extra_behavior", config.get("extra_fields_behavior"))
        if strict is not True or extra != "forbid" or node.get("computed_fields"):
            raise _UnsupportedError
        checks: dict[str, Walk] = {}
        required = set()
        depth = 0
        for name, field in node["fields"].items():
            _only(field, {"type", "schema", "required", "metadata"})
            if field.get("type") != "typed-dict-field" or "required" not in field:
                raise _UnsupportedError
            _check_text(name)
            checks[name], field_depth = self.compile(field["schema"], strict)
            depth = max(depth, field_depth)
            if field["required"]:
                required.add(name)
        return _typed_dict_walk(checks, frozenset(required)), depth + 1

    def nullable(self, node: Mapping[str, Any], strict: bool) -> tuple[Walk, int]:
        _only(node, _LEAF_KEYS | {"schema"})
        if not _strict(node, strict):
            raise _UnsupportedError
        inner, depth = self.compile(node["schema"], strict)
        if inner is _str:
            return _optional_str, depth
        return (lambda value: 4 if value is None else inner(value)), depth

    def literal(self, node: Mapping[str, Any], strict: bool) -> tuple[Walk, int]:
        _only(node, {"type", "expected", "metadata", "ref"})
        expected = node["expected"]
        if not all(type(item) is str for item in expected):
            raise _UnsupportedError
        for item in expected:
            _check_text(item)
        allowed = frozenset(expected)

        def walk(value: Any) -> int:
            if type(value) is not str or value not in allowed:
                raise Unsure
            return len(value) * 6 + 2

        return walk, 0

    def list_of(self, node: Mapping[str, Any], strict: bool) -> tuple[Walk, int]:
        _only(node, _LEAF_KEYS | {"items_schema"})
        if not _strict(node, strict) or "items_schema" not in node:
            raise _UnsupportedError
        item, depth = self.compile(node["items_schema"], strict)

        def walk(value: Any) -> int:
            if type(value) is not list:
                raise Unsure
            total = 2
            for entry in value:
                total += item(entry) + 1
            return total

        return walk, depth + 1

    def dict_of(self, node: Mapping[str, Any], strict: bool) -> tuple[Walk, int]:
        _only(node, _LEAF_KEYS | {"keys_schema", "values_schema"})
        keys = node.get("keys_schema")
        if not _strict(node, strict) or keys is None or "values_schema" not in node:
            raise _UnsupportedError
        self.compile(keys, strict)  # must be a known part, and then str only is accepted
        if keys.get("type") != "str":
            raise _UnsupportedError
        item, depth = self.compile(node["values_schema"], strict)

        def walk(value: Any) -> int:
            if type(value) is not dict:
                raise Unsure
            total = 2
            for key, entry in value.items():
                total += _str(key) + item(entry) + 2
            return total

        return walk, depth + 1

    def after(self, node: Mapping[str, Any], strict: bool) -> tuple[Walk, int]:
        _only(node, {"type", "function", "schema", "metadata", "ref"})
        function = node["function"]
        if function.get("type") != "no-info" or node["schema"].get("type") not in _LEAVES:
            raise _UnsupportedError
        inner, depth = self.compile(node["schema"], strict)
        validate: Callable[[Any], Any] = function["function"]

        def walk(value: Any) -> int:
            bound = inner(value)
            try:
                validate(value)
            except Exception:
                raise Unsure from None
            return bound

        return walk, depth


def _typed_dict_walk(checks: dict[str, Walk], required: frozenset[str]) -> Walk:
    """A ``TypedDict``'s walk. Every key must be declared, and the required ones are looked
    up at once (``itemgetter``: a ``KeyError`` if one is missing). The bound counts
    every declared key (``"key":`` and a comma, 6 bytes a character) present or not. Fields
    of ``str`` and ``str | None``, the most common, are checked inline (no call, one set
    look-up) and add their characters, 6 bytes each, and quotes (the constant ``keys``
    covers them)."""
    present = itemgetter(*sorted(required)) if required else dict.keys
    keys = 2 + sum(len(name) * 6 + 6 for name in checks)
    texts = frozenset(name for name, check in checks.items() if check in (_str, _optional_str))
    nullable = frozenset(name for name, check in checks.items() if check is _optional_str)

    def walk(value: Any) -> int:
        if type(value) is not dict:
            raise Unsure
        try:
            present(value)
        except KeyError:  # a required field missing
            raise Unsure from None
        total = keys
        chars = 0
        for key, item in value.items():
            if type(item) is str and key in texts and type(key) is str:
                if not item.isascii():
                    _str(item)  # a lone surrogate: Unsure
                chars += len(item)
            elif type(key) is not str:
                raise Unsure
            elif item is None and key in nullable:
                total += 4
            else:
                check = checks.get(key)
                if check is None:  # an undeclared field
                    raise Unsure
                total += check(item)
        return total + chars * 6

    return walk


def _str(value: Any) -> int:
    if type(value) is not str:
        raise Unsure
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:  # a lone surrogate: the JSON check words the error
            raise Unsure from None
    return len(value) * 6 + 2


def _optional_str(value: Any) -> int:
    return 4 if value is None else _str(value)


def _int(value: Any) -> int:
    if type(value) is not int:
        raise Unsure
    bits = value.bit_length()
    if bits > _MAX_INT_BITS:
        raise Unsure
    return bits * 3 // 10 + 3


def _float(value: Any) -> int:
    if type(value) is float:
        if not math.isfinite(value):
            raise Unsure
        return 26
    return _int(value)  # strict float accepts an int (and refuses a bool)


def _bool(value: Any) -> int:
    if value is True or value is False:
        return 5
    raise Unsure


def _none(value: Any) -> int:
    if value is None:
        return 4
    raise Unsure


_LEAVES: dict[str, Walk] = {"str": _str, "int": _int, "float": _float, "bool": _bool, "none": _none}
_BUILDERS: dict[str, Callable[[_Compiler, Mapping[str, Any], bool], tuple[Walk, int]]] = {
    "typed-dict": _Compiler.typed_dict,
    "nullable": _Compiler.nullable,
    "literal": _Compiler.literal,
    "list": _Compiler.list_of,
    "dict": _Compiler.dict_of,
    "function-after": _Compiler.after,
}


def _only(node: Mapping[str, Any], known: frozenset[str] | set[str]) -> None:
    if not node.keys() <= known:
        raise _UnsupportedError


def _strict(node: Mapping[str, Any], strict: bool) -> bool:
    return node.get("strict", strict) is True  # its own setting, else its shape's


def _check_text(text: str) -> None:
    try:
        text.encode()
    except UnicodeEncodeError:
        raise _UnsupportedError from None
