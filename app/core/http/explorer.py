"""``GET /openapi.json`` (always) and ``GET /docs``, the API explorer (debug mode only).

The document is generated once per app, on first request, from the routes (see
:mod:`.openapi`). The explorer is one HTML page shipped beside this file, with its script
inline: it reads ``/openapi.json`` and lets a developer send each request and read the
answer. Nothing is loaded from another host. Outside debug mode ``/docs`` is a 404.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app

from .openapi import openapi_document

__all__ = ["api_docs_blueprint", "cached_document"]

api_docs_blueprint = Blueprint("api_docs", __name__)
_EXTENSION = "openapi_document"


def cached_document(app: Flask) -> dict[str, Any]:
    """The app's OpenAPI document, built on first use and kept in ``app.extensions``."""
    document: dict[str, Any] | None = app.extensions.get(_EXTENSION)
    if document is None:
        document = openapi_document(app, title="Clinic API", version=_version())
        app.extensions[_EXTENSION] = document
    return document


@api_docs_blueprint.get("/openapi.json")
def openapi_json() -> tuple[dict[str, Any], int]:
    """The OpenAPI 3.1 document of this app."""
    return cached_document(current_app), 200


@api_docs_blueprint.get("/docs")
def explorer() -> Response:
    """The API explorer page (debug mode only)."""
    if not current_app.debug:
        abort(404)
    page = files(__package__).joinpath("explorer.html").read_text(encoding="utf-8")
    return Response(page, mimetype="text/html")


def _version() -> str:
    from app import __version__

    return __version__
