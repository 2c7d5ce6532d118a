"""Sample module ``rqcanarydb``: a handler whose PostgreSQL error holds the payload's values.

``checks_on_postgres`` inserts the patient into the table of the database named by
``CANARY_PEOPLE_URL`` (an engine whose parameters are NOT hidden), whose CHECK constraint
refuses it: PostgreSQL's ``DETAIL: Failing row contains (...)`` then holds the email and the
name, and SQLAlchemy's message the parameters.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import sqlalchemy as sa

from app.core.events import EventType
from app.core.events.subscriptions import Handler
from app.core.modules import BaseModule, Manifest


@cache
def _people() -> sa.Engine:
    return sa.create_engine(os.environ["CANARY_PEOPLE_URL"], hide_parameters=False)


def checks_on_postgres(payload: dict[str, Any]) -> None:
    """Insert a row the table's CHECK constraint refuses."""
    with _people().begin() as connection:
        connection.execute(
            sa.text("INSERT INTO people VALUES (:email, :name)"),
            {"email": payload["email"], "name": payload["full_name"]},
        )


class RQCanaryDBModule(BaseModule):
    """A PostgreSQL CHECK violation for every ``patient.created``."""

    manifest = Manifest(name="rqcanarydb")

    def get_event_handlers(self) -> dict[str, Handler]:
        return {EventType.PATIENT_CREATED: checks_on_postgres}
