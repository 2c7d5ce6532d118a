"""Who gets into the dashboard, and which POSTs pass the CSRF check (Flask test client)."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask, Request

from app.dashboard import set_authorizer
from app.dashboard.access import CSRF_COOKIE, CSRF_FIELD, csrf_token

LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}
ELSEWHERE = {"REMOTE_ADDR": "192.0.2.7"}


def test_off_by_default(make_app: Callable[..., Flask]) -> None:
    app = make_app(EVENTBUS_DASHBOARD=False, DEBUG=True)
    assert app.test_client().get("/eventbus/", environ_base=LOOPBACK).status_code == 404


def test_without_a_hook_only_loopback_in_debug_gets_in(make_app: Callable[..., Flask]) -> None:
    debug = make_app(DEBUG=True).test_client()
    assert debug.get("/eventbus/", environ_base=LOOPBACK).status_code == 200
    assert debug.get("/eventbus/", environ_base=ELSEWHERE).status_code == 403
    production = make_app(DEBUG=False).test_client()
    for path in ("/eventbus/", "/eventbus/dead-letters", "/eventbus/tail.json",
                 "/eventbus/static/eventbus_dashboard/dashboard.js"):  # fmt: skip
        assert production.get(path, environ_base=LOOPBACK).status_code == 403, path


def test_the_applications_hook_decides_every_request(make_app: Callable[..., Flask]) -> None:
    app = make_app(DEBUG=True, EVENTBUS_DASHBOARD_PREFIX="/ops/bus")
    asked: list[str] = []

    def authorize(request: Request) -> str | None:
        asked.append(request.path)
        return "ada@example.org" if request.headers.get("X-Operator") == "yes" else None

    set_authorizer(app, authorize)
    client = app.test_client()
    assert client.get("/ops/bus/", environ_base=LOOPBACK).status_code == 403  # hook says no
    page = client.get("/ops/bus/", headers={"X-Operator": "yes"}, environ_base=ELSEWHERE)
    assert page.status_code == 200
    assert b"ada@example.org" in page.data
    assert asked == ["/ops/bus/", "/ops/bus/"]
    assert client.get("/eventbus/", headers={"X-Operator": "yes"}).status_code == 404


def test_a_post_needs_the_csrf_token_of_its_cookie(make_app: Callable[..., Flask]) -> None:
    app = make_app(DEBUG=True, EVENTBUS_TRANSPORT="rq")
    client = app.test_client()
    url = "/eventbus/dead-letters/rq/no-such-job/purge"
    assert client.post(url, environ_base=LOOPBACK).status_code == 403  # no cookie, no token
    assert client.get("/eventbus/dead-letters", environ_base=LOOPBACK).status_code == 200
    cookie = client.get_cookie(CSRF_COOKIE, path="/eventbus")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Strict"
    token = csrf_token(app, cookie.value)
    assert client.post(url, data={CSRF_FIELD: "0" * 64}, environ_base=LOOPBACK).status_code == 403
    assert client.post(url, environ_base=LOOPBACK).status_code == 403  # cookie alone
    cross = client.post(
        url, data={CSRF_FIELD: token}, headers={"Origin": "https://evil.example"},
        environ_base=LOOPBACK,
    )  # fmt: skip
    assert cross.status_code == 403
    # the right token passes the check: the unknown dead letter is then a 404
    assert client.post(url, data={CSRF_FIELD: token}, environ_base=LOOPBACK).status_code == 404
    assert client.get(url, environ_base=LOOPBACK).status_code == 405  # actions are POST only


def test_the_map_shows_the_clinic(make_app: Callable[..., Flask]) -> None:
    page = make_app(DEBUG=True).test_client().get("/eventbus/", environ_base=LOOPBACK)
    html = page.data.decode()
    modules = re.findall(r'<li class="module">([^<]+)</li>', html)
    assert modules == ["appointments", "billing", "notifications", "patient_timeline", "patients"]
    assert len(re.findall(r'<tr class="event"', html)) == 11
    assert 'data-handler="notifications.on_patient_created"' in html
