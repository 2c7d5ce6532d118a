"""Schema set-up for tests: the models' tables, stamped at head, in milliseconds.

``create_app()`` never creates tables, so every test app gets its schema here. Running the
real migrations for each of the suite's apps would cost seconds per hundred apps; instead the
tables are made from the models (``create_all``) and the heads are stamped as applied.
``tests/app/migrations/test_models_match_migrations.py`` proves that the migrations make
exactly these tables, on SQLite and on PostgreSQL, so the shortcut hides nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Connection, create_engine

import modules
from app import create_app
from app.core.modules import discover_modules
from app.db import Model, db, tune_sqlite
from app.migrations.branches import package_branches
from app.migrations.commands import stamp_heads
from app.migrations.scripts import scripts_of

__all__ = ["create_schema", "make_app", "prepare_database"]

EVERY_BRANCH = package_branches(Path(modules.__file__).resolve().parent)
"""The core's branch and every clinic module's: stamped on every test database, so that any
choice of ``ENABLED_MODULES`` finds its heads applied."""


def _schema(connection: Connection, modules_package: str = "modules") -> None:
    discover_modules(modules_package)  # its models in the metadata (imports, no side effects)
    Model.metadata.create_all(connection)
    stamp_heads(scripts_of(EVERY_BRANCH), connection)


def create_schema(app: Flask) -> None:
    """Make every model's table in ``app``'s database (if missing) and stamp the heads."""
    with app.app_context(), db.engine.begin() as connection:
        _schema(connection, app.config["MODULES_PACKAGE"])


def make_app(config: Mapping[str, Any] | None = None) -> Flask:
    """``create_app(config)`` on a database given its schema first (check at start off)."""
    app = create_app({"DATABASE_SCHEMA_CHECK": False, **(config or {})})
    create_schema(app)
    return app


def prepare_database(url: str, modules_package: str = "modules") -> None:
    """Give the database at ``url`` its schema, as ``flask db upgrade`` would, before a
    process the test starts (a worker, gunicorn) opens it; ``modules_package`` as the
    ``MODULES_PACKAGE`` of the apps that will use it."""
    engine = create_engine(url)
    tune_sqlite(engine)
    try:
        with engine.begin() as connection:
            _schema(connection, modules_package)
    finally:
        engine.dispose()
