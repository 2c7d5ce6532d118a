"""``--metrics-port`` on the worker commands: refusals are one line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.observability_support import observers_restored
from tests.support.redis_server import RedisServer
from tests.support.schema import make_app


@pytest.mark.redis
def test_the_forking_rq_worker_needs_a_multiprocess_directory(
    real_redis: RedisServer, key_prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with observers_restored():
        app = make_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'clinic.db'}",
                "EVENTBUS_TRANSPORT": "rq",
                "EVENTBUS_REDIS_URL": real_redis.url,
                "EVENTBUS_KEY_PREFIX": key_prefix,
            }
        )
        result = app.test_cli_runner().invoke(
            args=["events", "rq-worker", "--burst", "--metrics-port", "0"]
        )
    assert result.exit_code == 2, result.output
    assert "PROMETHEUS_MULTIPROC_DIR" in result.output
    assert "--simple" in result.output
    assert "Traceback" not in result.output
