"""``docker-compose.yml`` names only commands, options and settings that exist in the project.

No Docker engine runs here, so the file is checked statically: it parses; every service built
from the repository runs a command the project provides (a registered ``flask`` command with
options it accepts, or ``gunicorn`` on the ``wsgi:app`` object), and every environment key it
sets is a setting of ``app/config.py`` (``FLASK_<KEY>`` or ``DATABASE_URL``); Redis runs with
append-only persistence, which the Redis Streams guarantees assume; a one-shot ``migrate``
service runs ``flask --app wsgi db upgrade`` and every app service waits for it to succeed.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from flask.cli import FlaskGroup

from app.cli import db_cli, events_cli
from app.config import SETTINGS
from transports import TRANSPORT_MODULES

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
BUILT = {name: spec for name, spec in COMPOSE["services"].items() if "build" in spec}


def _command(spec: dict[str, Any]) -> list[str]:
    command = spec.get("command")
    assert isinstance(command, list) and command, "use the exec form: a list of strings"
    return [str(part) for part in command]


def _options(command: click.Command) -> set[str]:
    return {opt for param in command.params for opt in getattr(param, "opts", [])}


def _check_flask(args: list[str]) -> None:
    assert args[:2] == ["--app", "wsgi"], "the app is built by wsgi.py, as the README says"
    groups: dict[str, click.Command] = {"events": events_cli, "db": db_cli}
    group = groups.get(args[2]) or FlaskGroup()
    names = args[3:] if args[2] in groups else args[2:]
    ctx = click.Context(group)
    while isinstance(group, click.Group):
        found = group.get_command(ctx, names[0])
        assert found is not None, f"no command {names[0]!r} in {group.name!r}"
        group, names = found, names[1:]
    unknown = [arg for arg in names if arg.startswith("--") and arg not in _options(group)]
    assert not unknown, f"options {unknown} are not accepted by {group.name!r}"


def _check_gunicorn(args: list[str]) -> None:
    target = args[-1]
    assert target == "wsgi:app"
    tree = ast.parse((ROOT / "wsgi.py").read_text())
    assigned = {
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    assert "app" in assigned


def test_the_file_has_redis_a_web_app_and_a_streams_worker() -> None:
    assert {"redis", "web", "streams-worker"} <= set(COMPOSE["services"])
    assert {"web", "streams-worker"} <= set(BUILT)


@pytest.mark.parametrize("name", sorted(BUILT))
def test_each_built_service_runs_a_command_the_project_has(name: str) -> None:
    command = _command(BUILT[name])
    if command[0] == "flask":
        _check_flask(command[1:])
    elif command[0] == "gunicorn":
        _check_gunicorn(command[1:])
    else:
        pytest.fail(f"{name}: unexpected program {command[0]!r}; extend this test knowingly")


@pytest.mark.parametrize("name", sorted(BUILT))
def test_each_built_service_sets_only_known_settings(name: str) -> None:
    environment = BUILT[name].get("environment") or {}
    assert isinstance(environment, dict), "use the mapping form"
    for key, value in environment.items():
        setting = key.removeprefix("FLASK_") if key.startswith("FLASK_") else key
        assert setting in SETTINGS, f"{name}: {key} is not a setting of app/config.py"
        if setting == "EVENTBUS_TRANSPORT":
            assert value in TRANSPORT_MODULES


def test_a_one_shot_migrate_service_upgrades_the_schema_before_anything_else_starts() -> None:
    migrate = BUILT["migrate"]
    assert _command(migrate) == ["flask", "--app", "wsgi", "db", "upgrade"]
    assert migrate.get("restart") == "no"
    assert migrate["depends_on"]["db"]["condition"] == "service_healthy"
    assert migrate["environment"] == BUILT["web"]["environment"]
    for name, spec in BUILT.items():
        if name == "migrate":
            continue
        waits = spec.get("depends_on", {}).get("migrate", {})
        assert waits.get("condition") == "service_completed_successfully", name


def test_every_long_running_app_service_has_a_healthcheck_the_project_answers() -> None:
    for name, spec in BUILT.items():
        if name == "migrate":
            continue
        test = [str(part) for part in spec["healthcheck"]["test"]]
        assert test[0] == "CMD", name
        if test[1] == "flask":
            _check_flask(test[2:])
            assert test[4:6] == ["events", "health"], name
        else:
            assert "/health/ready" in " ".join(test), name


def test_redis_keeps_acknowledged_work_across_a_crash() -> None:
    command = " ".join(_command(COMPOSE["services"]["redis"]))
    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command


def test_the_dockerfile_installs_the_extras_the_services_need() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert ".[redis,server,postgres]" in dockerfile
