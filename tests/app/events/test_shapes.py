"""The one-pass shape walks (``shapes.py``) never accept what the full checks refuse.

A differential test: hypothesis draws random declared shapes (strict ``TypedDict``s of the
parts the walk knows, and some it does not) and random payloads, mostly almost valid (the
right shape with one value off: a ``bool`` for an ``int``, a ``StrEnum``, NaN, a lone
surrogate, a tuple for a list, a key missing or extra). Whenever the walk vouches for a
payload, pydantic and the JSON check must accept it and the walk's bound must cover its
encoded size; for payloads of exact builtin types that both accept, the walk must vouch (so
the fast path is taken). Then the validator's verdicts, error class and message, are the same
with and without the walks on the declared clinic events.
"""

from __future__ import annotations

import enum
import itertools
import math
from typing import Annotated, Any, Literal, NotRequired

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import StringConstraints, ValidationError, with_config
from typing_extensions import TypedDict

from app.core.events import EventValidationError
from app.core.events.payload import check_payload, encode_payload
from app.core.events.payloads import DECLARED_PAYLOADS, PayloadSpec, check_declared_payload
from app.core.events.shapes import Unsure
from app.core.events.validation import PayloadValidator
from app.core.validation import STRICT, IsoDateTime

LIMIT = 64
_names = itertools.count()


class Colour(enum.StrEnum):
    RED = "red"


class Small(enum.IntEnum):
    ONE = 1


class Text(str):
    """A ``str`` subclass (pydantic may accept it; the walk must stay unsure)."""


# -- random shapes: (annotation, strategy of valid values, whether the walk knows it) -------

Shape = tuple[Any, st.SearchStrategy[Any], bool]
TEXT = st.text(st.characters(codec="utf-8"), max_size=8)  # no lone surrogate
INSTANTS = st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat())
LEAVES: list[Shape] = [
    (str, TEXT, True),
    (int, st.integers(-(2**70), 2**70), True),
    (float, st.floats(allow_nan=False, allow_infinity=False) | st.integers(-9, 9), True),
    (bool, st.booleans(), True),
    (type(None), st.none(), True),
    (Literal["a", "b"], st.sampled_from(["a", "b"]), True),
    (IsoDateTime, INSTANTS, True),
    (Annotated[str, StringConstraints(max_length=3)], st.text(max_size=3), False),
    (Any, st.integers(), False),
]


def typed_dict(fields: list[tuple[str, Shape, bool]], strict: bool) -> Shape:
    """A ``TypedDict`` of ``(name, shape, required)`` fields; ``strict``: configured STRICT
    (a nested shape takes its parent's configuration anyway)."""
    annotations = {
        name: shape[0] if required else NotRequired[shape[0]] for name, shape, required in fields
    }
    made: Any = TypedDict(f"Shape{next(_names)}", annotations)  # type: ignore[misc]
    declared = with_config(STRICT)(made) if strict else made
    values = st.fixed_dictionaries(
        {name: shape[1] for name, shape, required in fields if required},
        optional={name: shape[1] for name, shape, required in fields if not required},
    )
    return declared, values, all(shape[2] for _, shape, _ in fields)


def combine(inner: st.SearchStrategy[Shape]) -> st.SearchStrategy[Shape]:
    optional = inner.map(lambda s: (s[0] | None, st.none() | s[1], s[2]))
    lists = inner.map(lambda s: (list[s[0]], st.lists(s[1], max_size=3), s[2]))  # type: ignore[valid-type]
    dicts = inner.map(
        lambda s: (dict[str, s[0]], st.dictionaries(TEXT, s[1], max_size=3), s[2])  # type: ignore[valid-type]
    )
    nested = st.tuples(
        FIELD_NAMES, st.lists(st.tuples(inner, st.booleans()), max_size=3), st.booleans()
    )
    shapes = nested.map(
        lambda n: typed_dict(
            [(f"{n[0]}{i}", shape, required) for i, (shape, required) in enumerate(n[1])], n[2]
        )
    )
    return optional | lists | dicts | shapes


FIELD_NAMES = st.sampled_from(["id", "name", "é", "x"])
SHAPES = st.recursive(st.sampled_from(LEAVES), combine, max_leaves=6)
TOP = st.lists(st.tuples(SHAPES, st.booleans()), min_size=1, max_size=4).map(
    lambda fields: typed_dict(
        [(f"f{i}", shape, required) for i, (shape, required) in enumerate(fields)], True
    )
)

# -- almost valid payloads -----------------------------------------------------------------

ODD_VALUES = [True, False, 0, 1, 1.5, -0.0, math.nan, math.inf, 2**20000, "", "a", "é", "\ud800",
              Colour.RED, Small.ONE, Text("a"), (), ("a",), None, {}, [], ["a"], {1: 2},
              {Text("k"): 1}, {"k": "\udfff"}, object()]  # fmt: skip
ODD = st.sampled_from(ODD_VALUES)


@st.composite
def almost_valid(draw: st.DrawFn, values: st.SearchStrategy[Any]) -> Any:
    """A valid value with, half of the time, one part replaced, added or removed."""
    value = draw(values)
    if draw(st.booleans()):
        return value
    return spoil(draw, value)


def spoil(draw: st.DrawFn, value: Any) -> Any:
    if isinstance(value, dict) and value and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value)))
        choice = draw(st.integers(0, 3))
        if choice == 0:
            return {k: v for k, v in value.items() if k != key}
        if choice == 1:
            return {**value, draw(st.sampled_from(["extra", Colour.RED])): 1}
        if choice == 2:
            return {Text(k) if k == key else k: v for k, v in value.items()}
        return {**value, key: spoil(draw, value[key])}
    if isinstance(value, list) and value and draw(st.booleans()):
        index = draw(st.integers(0, len(value) - 1))
        return [spoil(draw, v) if i == index else v for i, v in enumerate(value)]
    return draw(ODD)


def full_checks_accept(spec: PayloadSpec, payload: Any) -> bool:
    try:
        check_payload(payload, 2**40, LIMIT)
        spec.check(payload)
    except (EventValidationError, ValidationError):
        return False
    return True


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_walk_vouches_only_for_payloads_the_full_checks_accept(data: st.DataObject) -> None:
    declared, values, known = data.draw(TOP)
    spec = PayloadSpec(declared)
    assert spec.walk is not None or not known  # every shape of known parts compiles
    if spec.walk is None:
        return
    payload = data.draw(almost_valid(values))
    try:
        bound = spec.walk.walk(payload)
    except Unsure:
        return
    assert full_checks_accept(spec, payload)
    assert bound >= len(encode_payload(payload).encode())
    assert depth(payload) <= spec.walk.depth


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_walk_vouches_for_every_valid_payload_of_builtin_types(data: st.DataObject) -> None:
    declared, values, _ = data.draw(TOP)
    spec = PayloadSpec(declared)
    payload = data.draw(values)
    if spec.walk is not None and full_checks_accept(spec, payload):
        spec.walk.walk(payload)  # no Unsure


WRAPPERS: list[Any] = [
    lambda t: t,
    lambda t: t | None,
    lambda t: list[t],  # type: ignore[valid-type]
    lambda t: dict[str, t],  # type: ignore[valid-type]
]


@pytest.mark.parametrize("wrap", WRAPPERS, ids=["plain", "optional", "list", "dict"])
@pytest.mark.parametrize("leaf", [shape for shape, _, known in LEAVES if known], ids=repr)
def test_no_odd_value_gets_past_the_walk_of_any_leaf(leaf: Any, wrap: Any) -> None:
    spec = PayloadSpec(typed_dict([("v", (wrap(leaf), st.nothing(), True), True)], True)[0])
    assert spec.walk is not None
    for odd in ODD_VALUES:
        for value in (odd, [odd], {"k": odd}):
            try:
                spec.walk.walk({"v": value})
            except Unsure:
                continue
            assert full_checks_accept(spec, {"v": value}), (leaf, value)


def verdict(validator: PayloadValidator, event_type: str, payload: Any) -> tuple[str, str]:
    try:
        validator.check(event_type, payload, False)
    except EventValidationError as error:
        return type(error).__name__, str(error)
    return "accepted", ""


def _full(event_type: str, payload: dict[str, Any]) -> None:
    check_declared_payload(event_type, payload)  # the same check, without the walks


EVENTS = st.sampled_from(sorted(DECLARED_PAYLOADS))


@settings(max_examples=300, deadline=None)
@given(EVENTS, st.data())
def test_validator_verdicts_are_the_full_checks_on_every_declared_event(
    event_type: str, data: st.DataObject
) -> None:
    spec = DECLARED_PAYLOADS[event_type]
    properties = spec.json_schema()["properties"]
    fields = {name: _value_for(schema) for name, schema in properties.items()}
    payload = data.draw(almost_valid(st.fixed_dictionaries(fields)))
    walked, full = PayloadValidator(), PayloadValidator()
    walked.schema_check, full.schema_check = check_declared_payload, _full
    assert verdict(walked, event_type, payload) == verdict(full, event_type, payload)


def _value_for(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([_value_for(option) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        return INSTANTS if schema.get("format") == "date-time" else TEXT
    if kind == "integer":
        return st.integers(-(2**60), 2**60)
    if kind == "array":
        return st.lists(_value_for(schema["items"]), max_size=3)
    if kind == "null":
        return st.none()
    raise AssertionError(f"no strategy for {schema}")


@pytest.mark.parametrize("limit", [1, 2])
def test_a_shape_deeper_than_the_depth_limit_takes_the_full_checks(limit: int) -> None:
    payload = {
        "patient_id": "p1",
        "clinic_id": "c1",
        "changed": ["email"],
        "full_name": "Ada",
        "email": None,
        "phone": None,
    }
    validator = PayloadValidator()
    validator.schema_check = check_declared_payload
    validator.max_json_depth = limit
    if limit == 1:
        with pytest.raises(EventValidationError, match="nested deeper than 1"):
            validator.check("patient.updated", payload, False)
    else:
        assert validator.check("patient.updated", payload, False) is None
