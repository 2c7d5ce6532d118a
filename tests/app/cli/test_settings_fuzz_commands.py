"""The ``flask`` commands users run, each with one hostile setting in its environment: the
output is one short message (``Error: …``, one line per problem), never a traceback, exit
status 2 for a configuration problem or 1 for a connection problem (0 when the value is valid
and the command could do its job), and a URL-like value's password is never printed.

Real subprocesses (``flask --app wsgi …``), so few examples. The database is a scratch SQLite
file given its schema; the Redis is a loopback port where nothing listens (and every URL-ish
value points at a port like that), so no command touches a real Redis.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.config_checks import CHECKS
from app.config_values import CREDENTIAL_HINTS
from tests.support.flask_cli import run_flask
from tests.support.hostile_settings import MARKER, env_texts
from tests.support.redis_server import free_port
from tests.support.schema import prepare_database

pytestmark = pytest.mark.slow

COMMANDS = (
    ("events", "stats"),
    ("events", "dlq", "list"),
    ("events", "worker", "--burst"),
    ("events", "rq-worker", "--burst"),
    ("events", "health", "web"),
    ("db", "current"),
)
EXAMPLES = 9  # each a flask subprocess (1-3 s); 14 with the cases below
DEAD_REDIS = f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('settings-cli') / 'clinic.db'}"
    prepare_database(url)
    return url


def run(
    database: str, args: tuple[str, ...], key: str, text: str
) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("FLASK_")}
    env.update(
        DATABASE_URL=database,
        FLASK_LOG_FORMAT="json",
        FLASK_LOG_LEVEL="WARNING",
        FLASK_EVENTBUS_TRANSPORT="redis-streams",
        FLASK_EVENTBUS_REDIS_URL=DEAD_REDIS,
        FLASK_EVENTBUS_KEY_PREFIX="test-settings-cli",
    )
    env[f"FLASK_{key}"] = text
    return run_flask(*args, env=env)


def assert_one_short_message(result: subprocess.CompletedProcess[str], key: str, text: str) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    if any(hint in text.lower() for hint in CREDENTIAL_HINTS):
        assert MARKER not in output, output
    assert result.returncode in (0, 1, 2), output
    if result.returncode == 0:
        return
    message = [line for line in result.stderr.splitlines() if not line.startswith("{")]  # logs
    assert message and message[0].startswith("Error: "), output
    assert all(line.startswith("  - ") and len(line) < 600 for line in message[1:]), output
    if result.returncode == 2 and len(message) > 1:  # a list of problems: the key's among them
        assert any(line.startswith(f"  - {key}") for line in message[1:]) or key in message[0]


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    args=st.sampled_from(COMMANDS),
    key=st.sampled_from(list(CHECKS)),
    text=env_texts.filter(lambda text: "\x00" not in text),
)
def test_a_command_with_a_hostile_setting_prints_one_short_message(
    database: str, args: tuple[str, ...], key: str, text: str
) -> None:
    assume(not (key == "DATABASE_URL" and text.strip() in ("", "null")))  # instance/clinic.db
    assert_one_short_message(run(database, args, key, text), key, text)


@pytest.mark.parametrize(
    ("args", "key", "text", "status"),
    [
        (("events", "stats"), "EVENTBUS_REDIS_URL", f"redis://:{MARKER}@[::1/0", 2),
        (("db", "current"), "DATABASE_URL", f"postgresql://u:{MARKER}@h:abc/db", 2),
        (("events", "worker", "--burst"), "MODULES_PACKAGE", '"os"', 2),
        (("events", "dlq", "list"), "EVENTBUS_OUTBOX", f'"redis://:{MARKER}@h/0"', 2),
        (("events", "health", "web"), "EVENTBUS_REDIS_URL", f"redis://:{MARKER}@127.0.0.1:1/0", 1),
    ],
    ids=["redis-ipv6", "database-port", "modules-package", "url-as-boolean", "redis-down"],
)
def test_what_the_fuzz_found_is_one_message(
    database: str, args: tuple[str, ...], key: str, text: str, status: int
) -> None:
    result = run(database, args, key, text)
    assert_one_short_message(result, key, text)
    assert result.returncode == status, result.stderr
