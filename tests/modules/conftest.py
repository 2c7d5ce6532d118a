"""Fixtures of the clinic end-to-end suite: every test runs on SQLite AND on PostgreSQL.

- ``database_url`` (parametrised ``sqlite`` / ``postgresql``): a fresh SQLite file per test,
  or the session's private PostgreSQL database (created ``eventbus_test_<hex>``, dropped at the
  end; its rows are deleted after each test).
- ``bus_profile``: how handlers run, a :class:`tests.modules.clinic.BusProfile`. Today only
  in-process. To re-run the whole suite with handlers in workers, add a profile to
  ``BUS_PROFILES`` below, e.g. for Redis Streams::

      BusProfile(
          "redis-streams",
          config=lambda request: {
              "EVENTBUS_TRANSPORT": "redis-streams",
              "EVENTBUS_REDIS_URL": request.getfixturevalue("real_redis").url,
              "EVENTBUS_KEY_PREFIX": request.getfixturevalue("key_prefix"),
          },
          running=streams_worker,  # starts a worker for `app`, yields settle(), stops it
          synchronous=False,
      )

  ``settle()`` must return once every event published so far was handled; the helpers
  ``Clinic.notifications()`` / ``Clinic.timeline()`` call it before reading. Clean up
  your keys in ``running``'s exit (``delete_prefix``).
- ``make_clinic(**overrides)``: builds a :class:`Clinic` with ``create_app`` on the
  database and profile above, plus ``overrides``; every app it built is cleaned up.
- ``clinic``: ``make_clinic()`` with no overrides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app import create_app
from app.db import db
from tests.modules.clinic import INPROCESS, BusProfile, Clinic
from tests.support.postgres import delete_all_rows, postgres_database

BUS_PROFILES: list[BusProfile] = [INPROCESS]
DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of this session's private PostgreSQL database."""
    with postgres_database() as url:
        yield url


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A SQLAlchemy URL: a fresh SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'clinic.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=BUS_PROFILES, ids=lambda profile: profile.name)
def bus_profile(request: pytest.FixtureRequest) -> BusProfile:
    """How handlers run for this test (see the module docstring)."""
    profile: BusProfile = request.param
    return profile


@pytest.fixture
def make_clinic(
    request: pytest.FixtureRequest, database_url: str, bus_profile: BusProfile
) -> Iterator[Callable[..., Clinic]]:
    """A factory of clinic apps on this test's database and bus profile."""
    apps: list[Flask] = []
    with ExitStack() as stack:

        def make(**overrides: Any) -> Clinic:
            config = {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "TESTING": True,
                **bus_profile.config(request),
                **overrides,
            }
            app = create_app(config)
            apps.append(app)
            stack.callback(_clean, app)
            settle = stack.enter_context(bus_profile.running(app, request))
            return Clinic(app, app.test_client(), settle)

        yield make


@pytest.fixture
def clinic(make_clinic: Callable[..., Clinic]) -> Clinic:
    """The whole clinic (every module) on this test's database and bus profile."""
    return make_clinic()


def _clean(app: Flask) -> None:
    """Delete the rows this test wrote (PostgreSQL is shared by the session); close the pool."""
    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name != "sqlite":
            delete_all_rows(db.engine, db.metadata)
        db.engine.dispose()
