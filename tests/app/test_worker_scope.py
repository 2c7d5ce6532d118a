"""``WorkerScope``: one app context per batch, and a clean ``g`` and session per delivery."""

from __future__ import annotations

import threading

from flask import Flask, g
from sqlalchemy import text

from app.db import db
from app.worker_scope import WorkerScope


def _scope() -> WorkerScope:
    flask_app = Flask("scope-test")
    flask_app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    db.init_app(flask_app)
    return WorkerScope(flask_app)


def test_after_delivery_closes_the_session_a_handler_opened_and_resets_g() -> None:
    scope = _scope()
    with scope.batch():
        g.leftover = 1
        db.session.execute(text("select 1"))
        assert db.session.registry.has()
        scope.after_delivery()
        assert not db.session.registry.has()
        assert not hasattr(g, "leftover")
        scope.after_delivery()  # nothing opened: nothing to close
        assert not db.session.registry.has()


def test_another_threads_session_is_left_alone_and_ours_still_closed() -> None:
    scope = _scope()
    opened, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        with scope.batch():
            db.session.execute(text("select 1"))
            opened.set()
            release.wait(30)
            assert db.session.registry.has()  # our after_delivery did not close it
            db.session.remove()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert opened.wait(30)
        with scope.batch():
            scope.after_delivery()  # another context's session exists, ours does not
            assert not db.session.registry.has()
            db.session.execute(text("select 1"))
            scope.after_delivery()
            assert not db.session.registry.has()
    finally:
        release.set()
        thread.join(30)
    assert not thread.is_alive()
