"""The two domain errors every module raises: not found (404) and conflict (409)."""

from __future__ import annotations

from app.errors import ApiError

__all__ = ["conflict", "not_found"]


def not_found(what: str) -> ApiError:
    """404 ``<what>_not_found`` (the id is not echoed back: it may be anything)."""
    return ApiError(404, f"{what}_not_found", f"no {what} with this id")


def conflict(code: str, message: str) -> ApiError:
    """409 ``code``: the request is valid but the resource's state forbids it."""
    return ApiError(409, code, message)
