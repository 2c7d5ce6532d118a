"""The OpenAPI 3.1 document of an app, generated from its routes and their ``@operation``s.

Our own small generator on pydantic's JSON Schema rather than flask-openapi3 or spectree:
both replace the views' error handling with their own (422 bodies of another shape, or an
``OpenAPI`` app class instead of ``Flask``), while the contract here is the error body the
clinic already answers; pydantic already writes draft 2020-12 JSON Schema, which OpenAPI 3.1
embeds as is, so the generator only has to walk ``app.url_map`` and lay the operations out.

Every route whose view carries an :class:`~app.core.http.operation.Operation` is documented;
others (the explorer page itself, the dashboard) are not. Request bodies (``TypedDict``s) are
rendered in pydantic's validation mode, response models in serialization mode, all under
``components/schemas``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from flask import Flask
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode
from werkzeug.routing import Rule

from .body import adapter_for
from .operation import Operation, operation_of
from .responses import ErrorBody

__all__ = ["openapi_document"]

_REF = "#/components/schemas/{model}"
_PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_JSON = "application/json"


def openapi_document(app: Flask, *, title: str, version: str) -> dict[str, Any]:
    """The document: one path item per documented route, every model a component."""
    operations = list(_documented(app))
    schemas = _components(operations)
    paths: dict[str, dict[str, Any]] = {}
    for rule, method, declared in operations:
        path, names = _path(rule.rule)
        item = paths.setdefault(path, {})
        item[method] = _operation(rule, method, declared, names)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas},
    }


def _documented(app: Flask) -> Iterator[tuple[Rule, str, Operation]]:
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        declared = operation_of(app.view_functions[rule.endpoint])
        if declared is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method.lower(), declared


def _path(rule: str) -> tuple[str, list[str]]:
    names = _PARAMETER.findall(rule)
    return _PARAMETER.sub(lambda m: "{" + m.group(1) + "}", rule) or "/", names


def _components(operations: list[tuple[Rule, str, Operation]]) -> dict[str, Any]:
    wanted: dict[type[Any], JsonSchemaMode] = {ErrorBody: "serialization"}
    for _, _, declared in operations:
        if declared.body is not None:
            wanted[declared.body] = "validation"
        for model in declared.responses.values():
            if model is not None:
                wanted[model] = "serialization"
    names = sorted(shape.__name__ for shape in wanted)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:  # components are referenced by class name: two of one name would collide
        raise ValueError(f"two request or response shapes are named {', '.join(repeated)}")
    inputs = [(shape.__name__, mode, adapter_for(shape)) for shape, mode in wanted.items()]
    _, top = TypeAdapter.json_schemas(inputs, ref_template=_REF)
    schemas: dict[str, Any] = top.get("$defs", {})
    return dict(sorted(schemas.items()))


def _ref(shape: type[Any]) -> dict[str, str]:
    return {"$ref": _REF.format(model=shape.__name__)}


def _operation(rule: Rule, method: str, declared: Operation, names: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "operationId": f"{rule.endpoint.replace('.', '_')}_{method}",
        "summary": declared.summary,
        "tags": [rule.endpoint.split(".")[0]],
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in names
    ]
    if declared.query is not None:
        parameters += _query_parameters(declared.query)
    if parameters:
        result["parameters"] = parameters
    if declared.body is not None:
        result["requestBody"] = {
            "required": not declared.optional_body,
            "content": {_JSON: {"schema": _ref(declared.body)}},
        }
    elif declared.accepts_empty_body:
        result["requestBody"] = {
            "required": False,
            "content": {_JSON: {"schema": {"type": "object"}}},
        }
    result["responses"] = _responses(declared, bool(names))
    return result


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": _plain(sub)}
        for name, sub in schema.get("properties", {}).items()
    ]


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without pydantic's title (the name says it) and without
    ``null`` (an optional parameter is absent, never ``null``: a query string has no null)."""
    options = [option for option in schema.get("anyOf", ()) if option != {"type": "null"}]
    if len(options) == 1:
        schema = {**{k: v for k, v in schema.items() if k != "anyOf"}, **options[0]}
    return {k: v for k, v in schema.items() if k != "title" and not (k == "default" and v is None)}


def _responses(declared: Operation, has_path_parameters: bool) -> dict[str, Any]:
    statuses: dict[int, type[BaseModel] | None] = dict(declared.responses)
    errors = set(declared.errors)
    if declared.body is not None or declared.accepts_empty_body:
        errors |= {400, 415}
    if declared.query is not None:
        errors.add(400)
    if has_path_parameters:
        errors.add(404)
    for status in errors:
        statuses.setdefault(status, ErrorBody)
    return {str(status): _response(status, model) for status, model in sorted(statuses.items())}


def _response(status: int, model: type[BaseModel] | None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": HTTPStatus(status).phrase}
    if model is not None:
        response["content"] = {_JSON: {"schema": _ref(model)}}
    return response
