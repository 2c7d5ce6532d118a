"""``flask events catalog``: deterministic, checkable, and committed fresh for the clinic."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from flask import Flask

import transports
from app.architecture import CATALOG_PATH, PROJECT_ROOT, analyse, render_catalog
from app.core.events import Router
from tests.support.flask_cli import run_flask

from .support import SAMPLES, SAMPLES_DIR, at

SampleApp = Callable[[str], Flask]
REGENERATE = "regenerate it with `flask --app wsgi events catalog`"


def test_the_catalog_is_regenerated_identically(sample_app: SampleApp, tmp_path: Path) -> None:
    app = sample_app("clean")
    first, second = tmp_path / "first.md", tmp_path / "second.md"
    for path in (first, second):
        result = app.test_cli_runner().invoke(args=["events", "catalog", "--output", str(path)])
        assert result.exit_code == 0, result.output
        assert result.output == f"wrote {path}\n"
    assert first.read_bytes() == second.read_bytes()
    assert first.read_text(encoding="utf-8") == render_catalog(analyse(f"{SAMPLES}.clean"))


def test_check_passes_on_a_fresh_file_and_names_the_first_stale_line(
    sample_app: SampleApp, tmp_path: Path
) -> None:
    app = sample_app("clean")
    path = tmp_path / "catalog.md"

    def check() -> tuple[int, str, str]:
        result = app.test_cli_runner().invoke(
            args=["events", "catalog", "--check", "--output", str(path)]
        )
        return result.exit_code, result.stdout, result.stderr

    assert check() == (1, "", f"{path} does not exist; generate it with "
                       "`flask --app wsgi events catalog`\n")  # fmt: skip
    assert not path.exists()
    app.test_cli_runner().invoke(args=["events", "catalog", "--output", str(path)])
    assert check() == (0, f"{path} is up to date\n", "")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("| beta | 0.1.0 |", "| beta | 0.0.9 |"), encoding="utf-8")
    line = text.splitlines().index(next(li for li in text.splitlines() if "| beta | 0.1.0" in li))
    wanted = text.splitlines()[line]
    assert check() == (1, "", f"{path} is stale (line {line + 1} should be {wanted!r}); "
                       f"{REGENERATE}\n")  # fmt: skip


def test_the_catalog_shows_payloads_publishers_consumers_and_diagrams() -> None:
    router = Router("inprocess", {"beta.on_invoice": "rq"}, transports.TRANSPORT_MODULES)
    text = render_catalog(analyse(f"{SAMPLES}.clean", router, {"beta.on_invoice": "rq"}))
    service = f"{SAMPLES_DIR}/clean/alpha/service.py"
    assert "`EVENTBUS_ROUTES`: `beta.on_invoice` → rq)." in " ".join(text.splitlines())
    expected = [
        "| [`patient.created`](#patientcreated) | `PatientCreated` | 1 | alpha | beta |",
        "| alpha | 2.0.0 | - | `invoice.paid`, `patient.archived`, `patient.created`, "
        "`patient.updated` | - |",
        "| beta | 0.1.0 | alpha | - | `invoice.*`, `patient.created` |",
        "| `email` | `string \\| null` | no |",
        f"- alpha: `{at(service, 'event_bus.publish(CREATED')}` (`event_bus.publish`)",
        f"- alpha: `{at(service, 'queue_event(event_type=')}` (`queue_event`)",
        "| `beta.on_patient_created` | `patient.created` | inprocess |",
        "| `beta.on_invoice` | `invoice.*` | rq |",
        "    m_alpha --> e_patient_created",
        "    e_invoice_paid -->|rq| m_beta",
        "    m_beta -->|depends on| m_alpha",
        "- nothing in the source",
        "- no module",
    ]
    for line in expected:
        assert line in text.splitlines(), line


def test_the_committed_clinic_catalog_is_fresh() -> None:
    committed = (PROJECT_ROOT / CATALOG_PATH).read_text(encoding="utf-8")
    assert committed == render_catalog(analyse("modules")), (
        f"{CATALOG_PATH} is stale: {REGENERATE} (or `make catalog`)"
    )


def test_the_catalog_ignores_the_routing_of_the_environment() -> None:
    """With the README's ``FLASK_EVENTBUS_TRANSPORT=redis-streams`` exported (and routes), the
    catalog is the committed one: ``catalog --check`` and so ``make test`` still pass."""
    env = {
        **os.environ,
        "FLASK_EVENTBUS_TRANSPORT": "redis-streams",
        "FLASK_EVENTBUS_ROUTES": '{"notifications.*": "rq"}',
    }
    result = run_flask("events", "catalog", "--check", env=env)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert result.stdout == f"{CATALOG_PATH} is up to date\n"
