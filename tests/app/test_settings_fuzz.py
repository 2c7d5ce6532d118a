"""Hostile values for every setting, through the environment and through ``create_app(config)``:
the app either starts or raises ``ConfigurationError`` whose problems are one line each, name
the key, and never contain the password of a URL given. Never another exception type.

The keys are those of ``app.config_checks.CHECKS`` (a new setting is fuzzed as soon as it has
its check). Before this fuzz, ``create_app()`` raised ``TypeError``, ``AttributeError`` or
``ModuleNotFoundError`` for ``MODULES_PACKAGE`` values such as ``'.'``, ``'os'`` or
``'zzz'``, ``ValueError`` for a dashboard prefix or metrics path holding ``<``, for
``redis://[::1/0`` and for ``postgresql://u:pw@host:abc/db``; and a password holding an
unencoded ``@`` reached the database driver, whose error showed what followed the ``@``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from flask import Flask
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError

from app import create_app
from app.config_checks import CHECKS
from app.config_values import CREDENTIAL_HINTS
from app.core.events import ConfigurationError
from app.log import configure_from_environment
from tests.support.hostile_settings import MARKER, env_texts, python_values
from tests.support.redis_server import free_port

KEYS = list(CHECKS)
EXAMPLES = 8  # per key and way in: 46 keys x 2 ways x 8 = ~740 apps, most refused at once
DEAD_REDIS = f"redis://127.0.0.1:{free_port()}/0"
"""Where a value that routes handlers to Redis would connect: nothing listens there."""
BASE = {"TESTING": True, "EVENTBUS_REDIS_URL": DEAD_REDIS, "EVENTBUS_KEY_PREFIX": "fuzz-settings"}


def assert_reported(error: BaseException, key: str, given: Any) -> None:
    """``error`` lists problems one per line, one of them ``key``'s; no password shown."""
    message = str(error)
    assert_no_password(message, given)
    if isinstance(error, OperationalError):  # an unreachable database: a connection problem
        assert key == "DATABASE_URL", message
        return
    assert isinstance(error, ConfigurationError), f"{type(error).__name__}: {message}"
    header, *problems = message.splitlines()
    assert header.endswith(":") and problems, message
    assert all(line.startswith("  - ") and len(line) < 600 for line in problems), message
    assert any(line.startswith(f"  - {key}") for line in problems), message


def assert_no_password(message: str, given: Any) -> None:
    """A value that may hold a password (URL-like) is never repeated. (Hypothesis also draws
    the bare marker from this module's constants: a plain value like that may be shown.)"""
    if any(hint in repr(given).lower() for hint in CREDENTIAL_HINTS):
        assert MARKER not in message, message


def close(app: Flask) -> None:
    for transport in app.extensions["eventbus"].transports.values():
        transport.close()


def build(config: Mapping[str, Any]) -> Flask | BaseException:
    try:
        return create_app(config)
    except (ConfigurationError, OperationalError) as exc:
        return exc


@pytest.fixture(autouse=True, scope="module")
def _no_files_in_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A value that passes and names a file does so under a scratch directory."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("settings-fuzz"))
        yield


@pytest.mark.parametrize("key", KEYS)
@settings(max_examples=EXAMPLES)
@given(value=python_values)
def test_a_hostile_value_in_the_mapping_starts_the_app_or_names_the_key(
    key: str, value: Any
) -> None:
    assume(not (key == "DATABASE_URL" and value is None))  # the default: a file in instance/
    outcome = build({**BASE, key: value})
    configure_from_environment()  # a LOG_LEVEL that passed reconfigured the process
    if isinstance(outcome, Flask):
        close(outcome)
    else:
        assert_reported(outcome, key, value)


@pytest.mark.parametrize("key", KEYS)
@settings(max_examples=EXAMPLES)
@given(text=env_texts)
def test_a_hostile_value_in_the_environment_starts_the_app_or_names_the_key(
    key: str, text: str
) -> None:
    assume(not (key == "DATABASE_URL" and text.strip() in ("", "null")))  # instance/clinic.db
    variables = {f"FLASK_{k}": str(v) for k, v in BASE.items() if k != "TESTING"}
    variables[f"FLASK_{key}"] = text
    if key == "DATABASE_URL":  # read unprefixed too (hosting platforms set it so)
        variables["DATABASE_URL"] = text
    with pytest.MonkeyPatch.context() as patch:
        for name, value in variables.items():
            patch.setenv(name, value)
        outcome = build({"TESTING": True})
    configure_from_environment()
    if isinstance(outcome, Flask):
        close(outcome)
    else:
        assert_reported(outcome, key, text)


@settings(max_examples=40)
@given(bad=st.dictionaries(st.sampled_from(KEYS), python_values, min_size=2, max_size=6))
def test_several_hostile_values_are_reported_together_each_on_its_line(bad: dict[str, Any]) -> None:
    assume(bad.get("DATABASE_URL", "") is not None)  # the default: a file in instance/
    outcome = build({**BASE, **bad})
    configure_from_environment()
    if isinstance(outcome, Flask):
        close(outcome)
        return
    message = str(outcome)
    assert_no_password(message, bad)
    if isinstance(outcome, OperationalError):
        assert "DATABASE_URL" in bad
        return
    assert isinstance(outcome, ConfigurationError)
    for line in message.splitlines()[1:]:
        assert line.startswith("  - ") and line[4:].split(":")[0].split(" ")[0] in {
            *bad,
            "SQLALCHEMY_DATABASE_URI",
        }, message
