"""JSON request helpers: 415, 400 with per-field messages from pydantic models, conversions,
query parameters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal, NotRequired

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, with_config
from typing_extensions import TypedDict

from app.core.http import json_body, load_body, load_query, require_id
from app.core.validation import STRICT, Email, FutureInstant, Id, PastDate, Range, Text
from app.errors import ApiError


@pytest.fixture
def flask_app() -> Iterator[Flask]:
    yield Flask(__name__)


def body_of(app: Flask, data: str | bytes, content_type: str | None, **kw: Any) -> dict[str, Any]:
    with app.test_request_context("/", method="POST", data=data, content_type=content_type):
        return json_body(**kw)


def error_of(call: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def test_json_body_reads_an_object(flask_app: Flask) -> None:
    assert body_of(flask_app, '{"a": 1}', "application/json") == {"a": 1}
    assert body_of(flask_app, '{"a": 1}', "application/merge-patch+json") == {"a": 1}


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        ('{"a": 1}', "text/plain", 415, "unsupported_media_type"),
        ('{"a": 1}', None, 415, "unsupported_media_type"),
        ("{", "application/json", 400, "malformed_json"),
        ('{"a": Infinity}', "application/json", 400, "malformed_json"),
        (b"\xff\xfe", "application/json", 400, "malformed_json"),
        ("[" * 100_000, "application/json", 400, "malformed_json"),
        ("", "application/json", 400, "malformed_json"),
        ("[1]", "application/json", 400, "invalid_request"),
    ],
)
def test_json_body_errors(
    flask_app: Flask, data: str | bytes, content_type: str | None, status: int, code: str
) -> None:
    error = error_of(lambda: body_of(flask_app, data, content_type))
    assert (error.status, error.code) == (status, code)


def test_an_optional_body_may_be_empty_but_not_of_another_type(flask_app: Flask) -> None:
    assert body_of(flask_app, "", None, optional=True) == {}
    assert body_of(flask_app, "  ", "text/plain", optional=True) == {}
    error = error_of(lambda: body_of(flask_app, "x", "text/plain", optional=True))
    assert error.status == 415


@with_config(STRICT)
class Item(TypedDict):
    n: Annotated[int, Range(1)]


@with_config(STRICT)
class Everything(TypedDict):
    name: Annotated[str, Text(max_length=5)]
    email: NotRequired[Email | None]
    born: NotRequired[PastDate]
    at: NotRequired[FutureInstant]
    count: NotRequired[Annotated[int, Range(0, 10)]]
    flag: NotRequired[bool]
    kind: NotRequired[Literal["a", "b"]]
    ref: NotRequired[Id]
    items: NotRequired[Annotated[list[Item], Field(min_length=1)]]


@with_config(STRICT)
class Partial(TypedDict, total=False):
    name: Annotated[str, Text(max_length=5)]
    count: Annotated[int, Range(0, 10)]


def fields_of(data: dict[str, Any], model: type[Any] = Everything) -> dict[str, str]:
    error = error_of(lambda: load_body(model, data))
    assert (error.status, error.code) == (400, "invalid_request")
    return error.fields


def test_load_converts_every_kind() -> None:
    loaded = load_body(
        Everything,
        {
            "name": " Ada ",
            "email": None,
            "born": "1815-12-10",
            "at": "2030-01-15T10:30:00+01:00",
            "count": 0,
            "flag": False,
            "kind": "b",
            "ref": "a" * 32,
            "items": [{"n": 1}, {"n": 2}],
        },
    )
    assert loaded == {
        "name": "Ada",
        "email": None,
        "born": date(1815, 12, 10),
        "at": datetime(2030, 1, 15, 9, 30, tzinfo=UTC),
        "count": 0,
        "flag": False,
        "kind": "b",
        "ref": "a" * 32,
        "items": [{"n": 1}, {"n": 2}],
    }


def test_absent_optional_fields_are_left_out() -> None:
    assert load_body(Everything, {"name": "Ada"}) == {"name": "Ada"}


def test_every_error_is_reported_at_once() -> None:
    assert fields_of(
        {
            "email": "x@",
            "born": "1815-02-30",
            "at": "2030-01-15T10:30:00",
            "count": -1,
            "flag": "yes",
            "kind": "c",
            "ref": "A" * 32,
            "items": [{"n": 0}, "x", {"m": 1}],
            "other": 1,
        }
    ) == {
        "name": "is required",
        "email": "must be an e-mail address",
        "born": "must be a valid date, YYYY-MM-DD",
        "at": "must include a UTC offset, e.g. 2030-01-15T09:30:00Z",
        "count": "must not be negative",
        "flag": "must be true or false",
        "kind": "must be one of: a, b",
        "ref": "must be an id (32 hexadecimal characters)",
        "items[0].n": "must be greater than zero",
        "items[1]": "must be an object",
        "items[2].n": "is required",
        "items[2].m": "is not a known field",
        "other": "is not a known field",
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("toolong", "must be at most 5 characters"),
        ("   ", "must not be empty"),
        ("a\x00", "must not contain control characters"),
        ("a\ud800", "must be valid Unicode text"),
        (5, "must be a string"),
        (None, "must not be null"),
    ],
)
def test_text_limits(value: Any, message: str) -> None:
    assert fields_of({"name": value}) == {"name": message}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (11, "must be at most 10"),
        (1.0, "must be an integer"),
        (True, "must be an integer"),
        ("3", "must be an integer"),
        (10**30, "must be at most 10"),
    ],
)
def test_integer_limits(value: Any, message: str) -> None:
    assert fields_of({"name": "a", "count": value}) == {"count": message}


def test_a_key_that_is_not_unicode_is_an_unknown_field_and_the_rest_is_checked() -> None:
    assert fields_of({"name": 5, "\ud800": 1}) == {
        "name": "must be a string",
        "\ud800": "is not a known field",
    }
    assert fields_of({"name": "a", "\ud800": 1}) == {"\ud800": "is not a known field"}


def test_updates_skip_absent_fields_but_not_nulls() -> None:
    assert load_body(Partial, {"count": 3}) == {"count": 3}
    assert fields_of({"name": None}, Partial) == {"name": "must not be null"}


def test_date_and_datetime_options() -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    fields = fields_of({"name": "a", "born": tomorrow, "at": "2001-01-01T00:00:00Z"})
    assert fields == {"born": "must not be in the future", "at": "must be in the future"}


class Query(BaseModel):
    page: Annotated[int, Range(1, 100)] = 1
    ref: Id | None = None


def test_query_parameters(flask_app: Flask) -> None:
    with flask_app.test_request_context("/?page=3&ref=" + "b" * 32 + "&other=x"):
        assert load_query(Query) == Query(page=3, ref="b" * 32)
    with flask_app.test_request_context("/"):
        assert load_query(Query) == Query()
    with flask_app.test_request_context("/?page=x&ref=1"):
        error = error_of(lambda: load_query(Query))
        assert error.message == "invalid query parameter"
        assert error.fields == {
            "page": "must be an integer",
            "ref": "must be an id (32 hexadecimal characters)",
        }
    with flask_app.test_request_context("/?page=0"):
        assert error_of(lambda: load_query(Query)).fields == {"page": "must be greater than zero"}


def test_require_id_is_a_404_for_anything_that_is_not_an_id() -> None:
    assert require_id("c" * 32, "thing") == "c" * 32
    error = error_of(lambda: require_id("../etc/passwd", "thing"))
    assert (error.status, error.code) == (404, "thing_not_found")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(data=st.dictionaries(st.sampled_from([*Everything.__annotations__, "other"]), JSON))
def test_any_json_object_is_loaded_or_refused_field_by_field(data: dict[str, Any]) -> None:
    """Hostile bodies: never an exception other than a 400 naming fields, never a value echoed."""
    try:
        load_body(Everything, data)
    except ApiError as error:
        assert (error.status, error.code) == (400, "invalid_request")
        assert error.fields
        for where, message in error.fields.items():
            assert where.split("[")[0].split(".")[0] in {*Everything.__annotations__, "other"}
            for value in data.values():
                if isinstance(value, str) and len(value) > 12:  # longer than any message word
                    assert value not in message
