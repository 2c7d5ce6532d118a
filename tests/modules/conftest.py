"""Fixtures of the clinic end-to-end suite: the real app, on real databases, on every bus.

A test runs once per *setup* (fixture ``bus_setup``): a bus profile
(:class:`tests.modules.clinic.BusProfile`) on a database.

- ``inprocess`` (SQLite, PostgreSQL): handlers run inside ``publish()``; ``settle()`` does
  nothing.
- ``redis-streams`` (SQLite): every handler routed to Redis Streams; a ``StreamsWorker`` consumes
  in background threads for the whole test; ``settle()`` polls until every handler's group
  read and acknowledged everything (one ``MULTI`` snapshot).
- ``rq`` (SQLite, one file shared with the worker): every handler routed to RQ; RQ's own
  ``rq worker`` CLI runs in one subprocess for the session; ``settle()`` polls until no job
  waits, runs or waits for a retry.
- ``streams-cluster`` (SQLite): the same on the session's 3-master Redis Cluster
  (``redis+cluster://``, the hash-tagged key layout).
- ``outbox+streams`` (SQLite, PostgreSQL): ``EVENTBUS_OUTBOX`` on with the relay off
  (``EVENTBUS_OUTBOX_RELAY="none"``), handlers on Redis Streams; ``settle()`` runs
  ``relay.drain()`` then a burst worker, in turn, until neither has anything left.

``settle()`` fails the test if a delivery was dead-lettered (Streams), a job failed (RQ), an
outbox row stayed unsent, or a worker died. Remote profiles retry a failed handler at once,
3 deliveries in all (``EVENTBUS_MAX_DELIVERIES=3``), so a bug fails in seconds.

**Which tests run where** (the suite must stay fast): every test runs in-process on both
databases. Tests marked ``@pytest.mark.reactions`` (what handlers do: notifications, the
timeline, idempotent redelivery, the rollback guarantees, and the endpoint tests whose events
the handlers consume) also run on every remote profile; pure HTTP tests (validation, 404,
409, 415 shapes, pagination) do not, since no transport is involved. A reaction test that
swaps the app's notifications sender or reads the handlers' logs is marked
``reactions(local_handlers=True)`` and skips ``rq``, whose handlers run in another process.
On ``rq`` the worker's app is built from ``FLASK_*`` variables: its messages sent and events
published are mirrored into the test's ``RecordingSender`` and ``published_events`` at each
settle (:mod:`tests.support.rq_clinic`), so assertions on them hold unchanged.

Writing a test: read reactions after ``settle()`` (``Clinic.notifications()`` and
``timeline()`` settle first). Workers run different handlers concurrently and in any order,
so a test that asserts an order between the reactions to different requests settles between
those requests (``Clinic.story(settle_each=True)``). One profile alone:
``pytest tests/modules -k "rq-sqlite"``; the ``rq`` worker's output is in
``<pytest tmp>/clinic-rq0/rq-worker.log`` and quoted when a settle fails.

Redis keys: ``redis-streams`` and ``outbox+streams`` use the test's ``key_prefix`` and delete
it afterwards; ``rq`` uses its worker's session prefix, deletes each test's jobs and markers
after the test and everything at the end. Nothing is ever flushed.

- ``database_url``: a fresh SQLite file per test, the session's private PostgreSQL database
  (``eventbus_test_<hex>``, dropped at the end), or the ``rq`` worker's SQLite file; rows of a
  shared database are deleted after each test.
- ``make_clinic(**overrides)``: builds a :class:`Clinic` with ``create_app`` on the database and
  profile above, plus ``overrides``, and starts its workers; everything is cleaned up after.
- ``clinic``: ``make_clinic()`` with no overrides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.core.events import Router
from app.core.events.bus import INPROCESS as INPROCESS_TRANSPORT
from app.db import db
from app.log import configure_logging
from tests.modules.clinic import INPROCESS, BusProfile, Clinic, Settle
from tests.support.postgres import delete_all_rows, postgres_database
from tests.support.redis_server import delete_prefix
from tests.support.rq_clinic import ClinicRQWorker, running_clinic_rq_worker
from tests.support.schema import make_app
from tests.support.streams_settle import (
    background_worker,
    bounded_client,
    drain_outbox_and_streams,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "reactions(local_handlers=False): also run on every remote bus profile "
        "(with local_handlers=True: not on rq, whose handlers run in another process)",
    )


def _streams_url(request: pytest.FixtureRequest) -> str:
    """The real Redis, or the session's 3-master cluster for the ``streams-cluster`` profile."""
    if "streams-cluster" in request.node.name:
        return str(request.getfixturevalue("redis_cluster").url)
    return str(request.getfixturevalue("real_redis").url)


def _streams_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    return {
        "EVENTBUS_TRANSPORT": "redis-streams",
        "EVENTBUS_OUTBOX": False,  # direct publishing; OUTBOX_STREAMS turns it on
        "EVENTBUS_REDIS_URL": _streams_url(request),
        "EVENTBUS_KEY_PREFIX": request.getfixturevalue("key_prefix"),
        "EVENTBUS_MAX_DELIVERIES": 3,
        "EVENTBUS_RETRY_BACKOFF_MS": 50,
        "EVENTBUS_BLOCK_MS": 100,  # a stopping worker returns within 0.1 s
    }


@contextmanager
def _on_streams(
    settling: Callable[[Flask, str, str], Any], app: Flask, request: pytest.FixtureRequest
) -> Iterator[Settle]:
    url = _streams_url(request)
    prefix: str = request.getfixturevalue("key_prefix")
    try:
        with settling(app, url, prefix) as settle:
            try:
                yield settle
            finally:
                _rebind_logging(app)
    finally:
        _back_to_inprocess(app)
        client = bounded_client(url)
        delete_prefix(client, f"{prefix}*")
        client.close()


@contextmanager
def _on_rq(app: Flask, request: pytest.FixtureRequest) -> Iterator[Settle]:
    worker: ClinicRQWorker = request.getfixturevalue("clinic_rq_worker")
    uses_recorder = "published_events" in request.fixturenames
    recorder = request.getfixturevalue("published_events") if uses_recorder else None
    try:
        yield lambda: worker.settle(app, recorder)
        worker.settle(app, recorder)
    finally:
        worker.wait_idle()
        worker.reset()
        _back_to_inprocess(app)


def _rebind_logging(app: Flask) -> None:
    """Point the logs at the current ``sys.stderr`` before the workers' last settle.

    The app bound them to the stream of the test phase it was built in; pytest closes a
    ``capsys`` stream at the end of each phase, and the workers log during teardown too.
    """
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])


def _back_to_inprocess(app: Flask) -> None:
    """Close the app's transports and route the shared bus in-process again."""
    state = app.extensions["eventbus"]
    for transport in state.transports.values():
        transport.close()
    state.bus.configure(
        router=Router(INPROCESS_TRANSPORT, {}, {INPROCESS_TRANSPORT}), transports={}
    )


REDIS_STREAMS = BusProfile(
    "redis-streams",
    config=_streams_config,
    running=lambda app, request: _on_streams(background_worker, app, request),
    synchronous=False,
)
RQ = BusProfile(
    "rq",
    config=lambda request: request.getfixturevalue("clinic_rq_worker").config(),
    running=_on_rq,
    synchronous=False,
    handlers_in_process=False,
    database=lambda request: request.getfixturevalue("clinic_rq_worker").database_url,
)
STREAMS_CLUSTER = BusProfile(
    "streams-cluster",
    config=_streams_config,
    running=lambda app, request: _on_streams(background_worker, app, request),
    synchronous=False,
)
OUTBOX_STREAMS = BusProfile(
    "outbox+streams",
    config=lambda request: {
        **_streams_config(request),
        "EVENTBUS_OUTBOX": True,
        "EVENTBUS_OUTBOX_RELAY": "none",
    },
    running=lambda app, request: _on_streams(drain_outbox_and_streams, app, request),
    synchronous=False,
)


@dataclass(frozen=True)
class BusSetup:
    """One way to run a test: a bus profile on a database (``sqlite`` or ``postgresql``)."""

    profile: BusProfile
    database: str

    @property
    def id(self) -> str:
        return f"{self.profile.name}-{self.database}"

    @property
    def marks(self) -> list[pytest.MarkDecorator]:
        marks = [pytest.mark.postgres] if self.database == "postgresql" else []
        marks += [] if self.profile is INPROCESS else [pytest.mark.redis]
        # an `rq worker` subprocess per session: part of `make test`, not of `make test-fast`
        return marks + ([pytest.mark.slow] if self.profile is RQ else [])


SETUPS = [
    BusSetup(INPROCESS, "sqlite"),
    BusSetup(INPROCESS, "postgresql"),
    BusSetup(REDIS_STREAMS, "sqlite"),
    BusSetup(STREAMS_CLUSTER, "sqlite"),
    BusSetup(RQ, "sqlite"),
    BusSetup(OUTBOX_STREAMS, "sqlite"),
    BusSetup(OUTBOX_STREAMS, "postgresql"),
]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``bus_setup``: in-process always; remote profiles for ``reactions`` tests."""
    if "bus_setup" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("reactions")
    local_only = marker is not None and bool(marker.kwargs.get("local_handlers"))
    chosen = [
        setup
        for setup in SETUPS
        if setup.profile is INPROCESS
        or (marker is not None and (setup.profile.handlers_in_process or not local_only))
    ]
    metafunc.parametrize(
        "bus_setup",
        [pytest.param(setup, id=setup.id, marks=setup.marks) for setup in chosen],
        indirect=True,
    )


@pytest.fixture
def bus_setup(request: pytest.FixtureRequest) -> BusSetup:
    """This test's profile and database (see the module docstring)."""
    setup: BusSetup = request.param
    return setup


@pytest.fixture
def bus_profile(bus_setup: BusSetup) -> BusProfile:
    """How handlers run for this test."""
    return bus_setup.profile


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of this session's private PostgreSQL database."""
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def clinic_rq_worker(
    real_redis: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ClinicRQWorker]:
    """The session's ``rq worker`` subprocess (started by the first ``rq`` test)."""
    with running_clinic_rq_worker(real_redis.url, tmp_path_factory.mktemp("clinic-rq")) as worker:
        yield worker


@pytest.fixture
def database_url(request: pytest.FixtureRequest, bus_setup: BusSetup, tmp_path: Path) -> str:
    """A SQLAlchemy URL: the profile's shared database, a fresh SQLite file, or PostgreSQL."""
    if bus_setup.profile.database is not None:
        return bus_setup.profile.database(request)
    if bus_setup.database == "sqlite":
        return f"sqlite:///{tmp_path / 'clinic.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def make_clinic(
    request: pytest.FixtureRequest, database_url: str, bus_profile: BusProfile
) -> Iterator[Callable[..., Clinic]]:
    """A factory of clinic apps on this test's database and bus profile."""
    shared = bus_profile.database is not None or not database_url.startswith("sqlite")
    with ExitStack() as stack:

        def make(**overrides: Any) -> Clinic:
            config = {
                "SQLALCHEMY_DATABASE_URI": database_url,
                "TESTING": True,
                **bus_profile.config(request),
                **overrides,
            }
            app = make_app(config)
            stack.callback(_clean, app, shared)
            settle = stack.enter_context(bus_profile.running(app, request))
            return Clinic(app, app.test_client(), settle)

        yield make


@pytest.fixture
def clinic(make_clinic: Callable[..., Clinic]) -> Clinic:
    """The whole clinic (every module) on this test's database and bus profile."""
    return make_clinic()


def _clean(app: Flask, shared: bool) -> None:
    """Delete the rows this test wrote if the database outlives it; close the pool."""
    with app.app_context():
        db.session.remove()
        if shared:
            delete_all_rows(db.engine, db.metadata)
        db.engine.dispose()
