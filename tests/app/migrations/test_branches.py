"""One branch per module: a module's tables come and go without touching the others'."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import inspect

from app import migrations
from app.db import db
from tests.support.schema import make_app

ALL_BRANCHES = {
    "outbox",
    "patients",
    "appointments",
    "billing",
    "notifications",
    "patient_timeline",
}


def tables(app: Flask) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


def test_each_mounted_module_and_the_outbox_has_its_branch(app_on: Callable[..., Flask]) -> None:
    app = app_on("sqlite://")
    assert {branch.name for branch in migrations.app_branches(app)} == ALL_BRANCHES
    alone = app_on("sqlite://", ENABLED_MODULES=["patients"])
    assert {branch.name for branch in migrations.app_branches(alone)} == {"outbox", "patients"}


def test_upgrade_then_one_branch_down_to_base_and_up_again(
    empty_database: str, app_on: Callable[..., Flask]
) -> None:
    app = app_on(empty_database)
    assert migrations.schema_status(app).behind.keys() == ALL_BRANCHES
    migrations.upgrade(app)
    before = tables(app)
    assert {"billing_invoice", "billing_payment", "patients_patient", "eventbus_outbox"} <= before
    client = app.test_client()
    patient = client.post(
        "/patients", json={"full_name": "Ada Lovelace", "email": "ada@example.org"}
    ).get_json()

    migrations.downgrade(app, "billing@base")
    billing = {name for name in before if name.startswith("billing_")}
    assert tables(app) == before - billing
    status = migrations.schema_status(app)
    assert status.behind == {"billing": None}
    assert "run `flask --app wsgi db upgrade`" in status.reason()
    assert client.get(f"/patients/{patient['id']}").status_code == 200  # the others untouched

    migrations.upgrade(app)
    assert tables(app) == before
    assert migrations.schema_status(app).at_head
    assert client.get(f"/patients/{patient['id']}").get_json() == patient


def test_a_module_taken_out_leaves_its_revision_known_to_no_branch_and_blocks_nothing(
    tmp_path: object, app_on: Callable[..., Flask]
) -> None:
    url = f"sqlite:///{tmp_path}/out.db"
    migrations.upgrade(app_on(url))
    fewer = app_on(url, ENABLED_MODULES=["patients", "appointments", "billing", "patient_timeline"])
    status = migrations.schema_status(fewer)
    assert status.at_head
    assert status.unknown == ("notifications_0001",)


def test_the_test_fixture_schema_is_at_head() -> None:
    app = make_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    assert migrations.schema_status(app).at_head
