"""Payload shapes: a ``TypedDict`` per event, compiled once into a fast runtime check.

A shape is an ordinary ``TypedDict``, so mypy checks the payload a publisher builds and a
human reads the fields, their types and which are optional (``NotRequired``) in one place.
:class:`PayloadSpec` adds what a ``TypedDict`` cannot carry: the payload version. At run time
the ``TypedDict``'s annotations are compiled once: a fast exact-type pass answers "it fits"
(see ``payload_fastpath.py``), and per-field checks explain a payload that does not.

Supported annotations: ``str``, ``int`` (never ``bool``), ``float`` (an ``int`` is accepted),
``bool``, ``None``, unions (``str | None``), ``Literal[...]``, ``list[X]``, ``dict[str, X]``,
nested ``TypedDict`` and ``Annotated[str, DATE]`` / ``Annotated[str, DATETIME]`` for ISO 8601
text (see :data:`IsoDate`, :data:`IsoDateTime`). Anything else is rejected when the spec is
built, so a declaration cannot silently check nothing.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from .payload_fastpath import FastField, fast_check
from .payload_formats import DATE, DATETIME, IsoDate, IsoDateTime, TextFormat

__all__ = [
    "DATE",
    "DATETIME",
    "FieldDoc",
    "IsoDate",
    "IsoDateTime",
    "PayloadSpec",
    "ShapeError",
    "TextFormat",
]

Check = Callable[[Any, str], str | None]
"""``check(value, path)``: ``None`` when ``value`` fits, else a message naming ``path``."""


class ShapeError(Exception):
    """A payload does not fit its declared shape; the message names the field."""


@dataclass(frozen=True)
class FieldDoc:
    """One declared field, for catalogs and docs: name, type as text, required or not."""

    name: str
    type: str
    required: bool


class PayloadSpec:
    """The declared payload of one event: its ``TypedDict`` shape and its version.

    ``check(payload)`` raises :class:`ShapeError` naming the first field that does not fit:
    a missing required field, a field the shape does not declare, or a value of the wrong
    type. Thread safe: the compiled checks are immutable.
    """

    def __init__(self, shape: type[Any], version: int = 1) -> None:
        if version < 1:
            raise ValueError(f"{shape.__name__}: version must be >= 1, got {version}")
        self.shape = shape
        self.version = version
        self.description = " ".join((shape.__doc__ or "").split())
        self._fields, self._check, plan = _compile_typed_dict(shape)
        self._fits = fast_check(plan, shape.__name__)

    @property
    def fields(self) -> tuple[FieldDoc, ...]:
        """The declared fields in declaration order."""
        return self._fields

    def check(self, payload: Mapping[str, Any]) -> None:
        """Raise :class:`ShapeError` unless ``payload`` fits the shape (fast when it does)."""
        if self._fits(payload):
            return
        problem = self._check(payload, "")
        if problem is not None:
            raise ShapeError(problem)


def _compile_typed_dict(
    shape: type[Any],
) -> tuple[tuple[FieldDoc, ...], Check, list[FastField]]:
    if not _is_typed_dict(shape):
        raise TypeError(f"{shape!r} is not a TypedDict")
    hints = get_type_hints(shape, include_extras=True)
    compiled = [
        (name, _required(shape, name, hint), _compile(_unwrap(hint), name))
        for name, hint in hints.items()
    ]
    docs = tuple(FieldDoc(name, _render(_unwrap(hints[name])), req) for name, req, _ in compiled)
    declared = frozenset(hints)
    name = shape.__name__

    def check(value: Any, path: str) -> str | None:
        if not isinstance(value, Mapping):
            return f"{path or 'the payload'} must be an object ({name}), got {_kind(value)}"
        present = 0
        for key, needed, field_check in compiled:
            if key in value:
                present += 1
                problem = field_check(value[key], _join(path, key))
                if problem is not None:
                    return problem
            elif needed:
                return f"field {_join(path, key)!r} is required ({name})"
        if present != len(value):
            unknown = sorted(str(key) for key in value if key not in declared)
            return (
                f"field {_join(path, unknown[0])!r} is not declared in {name} "
                f"(declared: {', '.join(hints)})"
            )
        return None

    plan = [
        (key, needed, _unwrap(hints[key]), field_check) for key, needed, field_check in compiled
    ]
    return docs, check, plan


def _compile(hint: Any, where: str) -> Check:  # noqa: PLR0911 (one branch per kind)
    origin = get_origin(hint)
    if hint is Any or hint is object:
        raise TypeError(f"{where}: Any is not a declaration; name the type")
    if origin is Annotated:
        return _compile_annotated(hint, where)
    if origin is Union or origin is types.UnionType:
        return _compile_union(hint, where)
    if origin is Literal:
        return _compile_literal(hint)
    if origin is list:
        return _compile_list(hint, where)
    if origin is dict:
        return _compile_dict(hint, where)
    if _is_typed_dict(hint):
        return _compile_typed_dict(hint)[1]
    if hint in _SCALARS:
        return _SCALARS[hint]
    raise TypeError(f"{where}: unsupported annotation {hint!r}")


def _scalar(test: Callable[[Any], bool], expected: str) -> Check:
    def check(value: Any, path: str) -> str | None:
        if test(value):
            return None
        return f"field {path!r} must be {expected}, got {_kind(value)}"

    return check


_SCALARS: dict[Any, Check] = {
    str: _scalar(lambda v: isinstance(v, str), "a string"),
    int: _scalar(lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    float: _scalar(lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number"),
    bool: _scalar(lambda v: isinstance(v, bool), "a boolean"),
    type(None): _scalar(lambda v: v is None, "null"),
    None: _scalar(lambda v: v is None, "null"),
}


def _compile_annotated(hint: Any, where: str) -> Check:
    base, *extras = get_args(hint)
    inner = _compile(base, where)
    formats = [extra for extra in extras if isinstance(extra, TextFormat)]
    if not formats:
        return inner
    fmt = formats[0]

    def check(value: Any, path: str) -> str | None:
        problem = inner(value, path)
        if problem is not None:
            return problem
        try:
            fmt.parse(value)
        except (TypeError, ValueError):
            return f"field {path!r} must be an {fmt.name}, got {value!r}"
        return None

    return check


def _compile_union(hint: Any, where: str) -> Check:
    options = [_compile(arg, where) for arg in get_args(hint)]
    text = _render(hint)

    def check(value: Any, path: str) -> str | None:
        problems = [option(value, path) for option in options]
        if None in problems:
            return None
        return f"field {path!r} must be {text}, got {_kind(value)}"

    return check


def _compile_literal(hint: Any) -> Check:
    allowed = get_args(hint)

    def check(value: Any, path: str) -> str | None:
        if any(value == option and type(value) is type(option) for option in allowed):
            return None
        return f"field {path!r} must be one of {', '.join(map(repr, allowed))}, got {value!r}"

    return check


def _compile_list(hint: Any, where: str) -> Check:
    (item_hint,) = get_args(hint) or (Any,)
    item = _compile(item_hint, f"{where}[]")

    def check(value: Any, path: str) -> str | None:
        if not isinstance(value, list | tuple):
            return f"field {path!r} must be a list, got {_kind(value)}"
        for index, element in enumerate(value):
            problem = item(element, f"{path}[{index}]")
            if problem is not None:
                return problem
        return None

    return check


def _compile_dict(hint: Any, where: str) -> Check:
    key_hint, value_hint = get_args(hint) or (str, Any)
    if key_hint is not str:
        raise TypeError(f"{where}: JSON object keys are strings, not {key_hint!r}")
    item = _compile(value_hint, f"{where}{{}}")

    def check(value: Any, path: str) -> str | None:
        if not isinstance(value, dict):
            return f"field {path!r} must be an object, got {_kind(value)}"
        for key, element in value.items():
            problem = item(element, _join(path, str(key)))
            if problem is not None:
                return problem
        return None

    return check


def _required(shape: type[Any], name: str, hint: Any) -> bool:
    """Whether ``name`` is required. Read from the hint, not ``__required_keys__``, which is
    wrong on Python 3.11 when the declaring module uses ``from __future__ import annotations``.
    """
    marker = getattr(get_origin(hint), "_name", None)
    if marker in {"Required", "NotRequired"}:
        return bool(marker == "Required")
    required: frozenset[str] = shape.__required_keys__
    return bool(getattr(shape, "__total__", True)) or name in required


def _unwrap(hint: Any) -> Any:
    """Strip ``Required`` / ``NotRequired`` (``__required_keys__`` already says which)."""
    while getattr(get_origin(hint), "_name", None) in {"Required", "NotRequired"}:
        (hint,) = get_args(hint)
    return hint


def _render(hint: Any) -> str:
    """The annotation as a reader writes it: ``str | None``, ``list[str]``, ``date-time``."""
    origin = get_origin(hint)
    if origin is Annotated:
        base, *extras = get_args(hint)
        formats = [extra.name for extra in extras if isinstance(extra, TextFormat)]
        return f"str ({formats[0]})" if formats else _render(base)
    if origin is Union or origin is types.UnionType:
        return " | ".join(_render(arg) for arg in get_args(hint))
    if origin is Literal:
        return " | ".join(repr(arg) for arg in get_args(hint))
    if origin in (list, dict):
        return f"{origin.__name__}[{', '.join(_render(arg) for arg in get_args(hint))}]"
    if hint is type(None) or hint is None:
        return "None"
    return str(getattr(hint, "__name__", hint))


def _is_typed_dict(value: Any) -> bool:
    return isinstance(value, type) and hasattr(value, "__required_keys__")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__
