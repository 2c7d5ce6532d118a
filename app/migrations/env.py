"""Alembic's environment script: runs the migrations on the connection it is handed.

Alembic executes this file for every command; :mod:`app.migrations.commands` puts the
connection (already locked against concurrent upgrades), the models' metadata and the table
filter in ``config.attributes``. There is no ``alembic.ini`` and no offline mode: run the
migrations with ``flask --app wsgi db upgrade``.
"""

from __future__ import annotations

from alembic import context

from app.migrations.environment import run_migrations

run_migrations(context)
