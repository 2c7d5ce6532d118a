"""Helpers of the outbox end-to-end tests: the ledger app on a real Redis, and what it saw."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from flask import Flask
from sqlalchemy import func, select

from app.core.outbox import EXTENSION, OutboxRelay
from app.db import db
from tests.support.schema import make_app

SAMPLES = "tests.app.outbox.samples"


def ledger_config(redis_url: str, prefix: str, database: Path, **extra: Any) -> dict[str, Any]:
    """The ledger app: outbox on, every handler in Redis Streams workers."""
    return {
        "MODULES_PACKAGE": SAMPLES,
        "DATABASE_URL": f"sqlite:///{database}",
        "EVENTBUS_OUTBOX": True,
        "EVENTBUS_OUTBOX_RELAY": "none",
        "EVENTBUS_TRANSPORT": "redis-streams",
        "EVENTBUS_REDIS_URL": redis_url,
        "EVENTBUS_KEY_PREFIX": prefix,
        "EVENTBUS_CLAIM_IDLE_MS": 1000,
        "LEDGER_KEY": f"{prefix}:seen",
        "TESTING": True,
        **extra,
    }


def ledger_app(config: dict[str, Any]) -> Flask:
    return make_app(config)


def relay_of(app: Flask) -> OutboxRelay:
    relay: OutboxRelay = app.extensions[EXTENSION]
    return relay


def seen(app: Flask) -> list[str]:
    """Every delivery the ``record`` handler saw, duplicates included."""
    client = redis.Redis.from_url(app.config["EVENTBUS_REDIS_URL"])
    try:
        items = client.lrange(app.config["LEDGER_KEY"], 0, -1)
        return [item.decode() if isinstance(item, bytes) else item for item in items]
    finally:
        client.close()


def effects(app: Flask) -> int:
    """How many distinct effects the idempotent handler wrote."""
    from tests.app.outbox.samples.ledger import LedgerEffect

    with app.app_context():
        return int(db.session.execute(select(func.count()).select_from(LedgerEffect)).scalar_one())


def wait_until(condition: Callable[[], bool], what: str, limit_s: float = 120.0) -> None:
    """Poll ``condition`` (bounded, generous); fail saying ``what`` never happened."""
    deadline = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def env_for(config: dict[str, Any]) -> dict[str, str]:
    """The environment that makes ``create_app()`` in a subprocess build the same app."""
    import json

    env = dict(os.environ)
    for key, value in config.items():
        env[f"FLASK_{key}"] = value if isinstance(value, str) else json.dumps(value)
    env.pop("DATABASE_URL", None)
    root = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env
