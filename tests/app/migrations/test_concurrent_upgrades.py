"""Several ``flask db upgrade`` at once on one new database: all succeed, each revision once
(PostgreSQL: an advisory lock; SQLite: a file lock beside the database)."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import create_engine, text

from tests.app.migrations.processes import FLASK, REPO_ROOT, environment

UPGRADERS = 4


@pytest.mark.slow
def test_concurrent_upgrades_of_one_new_database_all_succeed(empty_database: str) -> None:
    processes = [
        subprocess.Popen(
            [FLASK, "--app", "wsgi", "db", "upgrade"],
            cwd=REPO_ROOT,
            env=environment(empty_database),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(UPGRADERS)
    ]
    outcomes = [process.communicate(timeout=120) for process in processes]
    for process, (out, err) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, err
        assert out.strip().splitlines()[-1].startswith("the database is at head"), out
    applied = "".join(err for _, err in outcomes).count("Running upgrade  -> patients_0001")
    assert applied == 1
    engine = create_engine(empty_database)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
            assert sorted(versions) == [
                "appointments_0001",
                "billing_0001",
                "notifications_0001",
                "outbox_0003",
                "patient_timeline_0001",
                "patients_0001",
            ]
    finally:
        engine.dispose()
