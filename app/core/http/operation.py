"""``@operation``: one declaration per view, read by the view and by the OpenAPI generator.

The decorator validates the request before the view runs and passes the results in::

    @blueprint.post("")
    @operation(body=CreatePatient, responses={201: PatientOut}, summary="Register a patient")
    def create(body: dict[str, Any]) -> Response:
        ...

- ``body``: a ``TypedDict`` (``@with_config(STRICT)``); the JSON body is read (415, 400
  ``malformed_json``) and validated (400 with per-field errors), and the view receives
  ``body=`` the values present.
  ``optional_body``: an empty body reads as ``{}``. ``accepts_empty_body``: the view takes no
  body, but a JSON object (or nothing) is accepted.
- ``query``: a pydantic model of the query string (lax: text converts); ``query=`` the model.
- ``responses``: status → response model (``None``: no body schema). The error responses the
  declaration implies are added by the generator: 400 and 415 with a body, 400 with a query,
  404 with a path parameter, and those listed in ``errors`` (e.g. ``(409,)``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from .body import json_body, load_body, load_query

__all__ = ["Operation", "operation", "operation_of"]

View = TypeVar("View", bound=Callable[..., Any])
_ATTRIBUTE = "__api_operation__"


@dataclass(frozen=True)
class Operation:
    """What one view accepts and answers (see the module docstring)."""

    summary: str
    responses: Mapping[int, type[BaseModel] | None]
    body: type[Any] | None = None
    optional_body: bool = False
    accepts_empty_body: bool = False
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = field(default=())


def operation(
    *,
    responses: Mapping[int, type[BaseModel] | None],
    summary: str = "",
    body: type[Any] | None = None,
    optional_body: bool = False,
    accepts_empty_body: bool = False,
    query: type[BaseModel] | None = None,
    errors: tuple[int, ...] = (),
) -> Callable[[View], View]:
    """Declare and enforce a view's request and responses (see the module docstring)."""

    def decorate(view: View) -> View:
        declared = Operation(
            summary=summary or _first_line(view.__doc__),
            responses=dict(responses),
            body=body,
            optional_body=optional_body,
            accepts_empty_body=accepts_empty_body,
            query=query,
            errors=errors,
        )

        @functools.wraps(view)
        def checked(**kwargs: Any) -> Any:
            if declared.query is not None:
                kwargs["query"] = load_query(declared.query)
            if declared.body is not None:
                kwargs["body"] = load_body(
                    declared.body, json_body(optional=declared.optional_body)
                )
            elif declared.accepts_empty_body:
                json_body(optional=True)
            return view(**kwargs)

        setattr(checked, _ATTRIBUTE, declared)
        return checked  # type: ignore[return-value]

    return decorate


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """The declaration of ``view``, or ``None`` for a view without ``@operation``."""
    found = getattr(view, _ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None


def _first_line(doc: str | None) -> str:
    """The docstring's first line, its reST literals (````x````) as Markdown ones (```x```)."""
    first = doc.strip().splitlines()[0] if doc and doc.strip() else ""
    return first.replace("``", "`")
