"""The application factory: ``create_app()`` builds the web app and every worker alike."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import click
from flask import Flask
from flask.cli import ScriptInfo

from app.cli import db_cli, events_cli
from app.cli.errors import command_line_errors
from app.config import load_config
from app.config_checks import validate_routes, validate_settings
from app.core.events import event_bus
from app.core.events.extension import init_app as init_event_bus
from app.core.events.extension import prepare_transports
from app.core.http.explorer import api_docs_blueprint
from app.core.modules import mount_modules
from app.core.outbox import init_outbox
from app.dashboard import init_dashboard
from app.db import db, tune_sqlite
from app.errors import register_error_handlers
from app.health import health_blueprint
from app.log import configure_logging
from app.migrations import quiet_alembic, require_schema_at_head
from app.observability import init_observability
from app.processes import watch_web_start

__all__ = ["__version__", "create_app"]

try:
    __version__ = version("flask-eventbus")
except PackageNotFoundError:  # a checkout whose dependencies were installed without it
    __version__ = "0+unknown"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, logging, database, bus, modules, error handlers, CLI.

    ``config`` overrides the defaults and the ``FLASK_*`` environment. Raises
    ``ConfigurationError`` (or its ``ModuleLoadError``) listing every problem found: every
    setting is checked before anything is built (:mod:`app.config_checks`), the route
    patterns once the modules' handlers are known. Inside a ``flask`` command these become
    one line and exit status 2 (1 for a connection problem): :mod:`app.cli.errors`.

    Never creates or alters a table. Unless ``DATABASE_SCHEMA_CHECK`` is off, raises
    ``SchemaNotAtHeadError`` (one line naming ``flask --app wsgi db upgrade``) when the
    database is behind the migrations' head, except for an app built by a ``flask`` command
    other than ``run``: ``db upgrade`` must run on such a database, and the commands that
    serve (``events worker``, ``rq-worker``, ``relay``) make the same check when they start.
    """
    with command_line_errors():
        return _build(config)


def _build(config: Mapping[str, Any] | None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, config)
    validate_settings(app.config)
    configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])
    quiet_alembic()
    db.init_app(app)
    state = init_event_bus(app, event_bus)
    mount_modules(app, event_bus)
    validate_routes(
        app.config["EVENTBUS_ROUTES"], (sub.handler_id for sub in event_bus.subscriptions())
    )
    register_error_handlers(app)
    app.register_blueprint(health_blueprint)
    app.register_blueprint(api_docs_blueprint)
    app.cli.add_command(events_cli)
    app.cli.add_command(db_cli)
    with app.app_context():
        tune_sqlite(db.engine)
    if _checks_schema_at_start(app):
        require_schema_at_head(app)
    init_outbox(app, event_bus)
    init_observability(app)
    if app.config["EVENTBUS_DASHBOARD"]:
        init_dashboard(app)
    prepare_transports(state)
    watch_web_start(app)
    return app


def _checks_schema_at_start(app: Flask) -> bool:
    """Whether this build checks the schema: not when a ``flask`` command other than ``run``
    (which serves) is building the app; those that serve check when they start."""
    context = click.get_current_context(silent=True)
    if context is None or context.find_object(ScriptInfo) is None:
        return True
    return context.command.name == "run"
