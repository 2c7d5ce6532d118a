"""Who may see the dashboard, and the CSRF check of its state-changing forms.

Authorization: the application sets one hook, ``authorize(request) -> str | None``, with
:func:`~app.dashboard.set_authorizer`. It returns who is asking (a name for the audit log)
to allow the request, or ``None`` to refuse it with 403. With no hook set, a request is
allowed only when the app runs in debug mode and comes from a loopback address; everything
else is refused. The hook is asked on every request, pages, JSON and static files alike.

CSRF: every form carries a token bound to a random value in a ``SameSite=Strict``,
``HttpOnly`` cookie: ``token = HMAC(secret, cookie value)``. A POST is refused (403) unless
its token matches its cookie and, when the browser sent an ``Origin`` header, the origin is
this host. The secret is the app's ``SECRET_KEY``, or a random one per process when the app
has none (then a form is valid only in the process that served it: set ``SECRET_KEY`` with
several web processes).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, Request

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "Authorizer",
    "check_csrf",
    "csrf_token",
    "default_authorizer",
    "new_csrf_nonce",
]

Authorizer = Callable[[Request], str | None]
CSRF_COOKIE = "eventbus_dashboard_csrf"
CSRF_FIELD = "csrf_token"
_PROCESS_SECRET = secrets.token_bytes(32)


def default_authorizer(app: Flask) -> Authorizer:
    """The rule with no hook set: loopback clients of an app in debug mode, nobody else."""

    def authorize(request: Request) -> str | None:
        if not app.debug or not _loopback(request.remote_addr):
            return None
        return f"loopback ({request.remote_addr}, debug)"

    return authorize


def _loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _secret(app: Flask) -> bytes:
    key = app.secret_key
    if not key:
        return _PROCESS_SECRET
    return key.encode() if isinstance(key, str) else bytes(key)


def new_csrf_nonce() -> str:
    """A fresh value for the CSRF cookie."""
    return os.urandom(16).hex()


def csrf_token(app: Flask, nonce: str) -> str:
    """The form token that goes with cookie value ``nonce``."""
    return hmac.new(_secret(app), nonce.encode(), hashlib.sha256).hexdigest()


def check_csrf(app: Flask, request: Request) -> str | None:
    """Why ``request`` (a POST) fails the CSRF check, or ``None`` when it passes."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    token = request.form.get(CSRF_FIELD, "")
    if not nonce or not token:
        return "missing CSRF token"
    if not hmac.compare_digest(token, csrf_token(app, nonce)):
        return "CSRF token does not match"
    origin = request.headers.get("Origin")
    if origin and urlsplit(origin).netloc != request.host:
        return "cross-origin form"
    return None
