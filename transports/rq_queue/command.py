"""RQ's own ``rq worker`` command line for an app's settings (``flask events rq-command``).

RQ's CLI knows nothing of the bus's settings: run by hand, ``rq worker`` listens on queues
named after the default key prefix and idles silently when the app uses another one.
:func:`rq_command` gives the line that matches the settings in effect: the queues under
``EVENTBUS_KEY_PREFIX``, ``EVENTBUS_REDIS_URL`` (password masked) and, for a URL redis-py
cannot read itself (``redis+sentinel://``), the connection class that can
(``connection.BusRedis``); the bus's safe worker and job classes; RQ's JSON serializer.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from rq.serializers import JSONSerializer

from app.core.events.exceptions import ConfigurationError

from ..redis_common import mask_url, parse_address
from .connection import BusRedis, needs_bus_redis
from .settings import RQSettings
from .worker import BusJob, BusWorker

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["import_path", "rq_command"]


def rq_command(app: Flask) -> list[str]:
    """RQ's own ``rq worker`` command line for ``app``'s settings (queues, Redis, classes).

    The classes are named from the objects themselves (:func:`import_path`), so the line
    stays right when they move. A password in the Redis URL is masked (``***``): put it
    back, or give the URL in ``RQ_REDIS_URL`` and drop ``--url``. A ``redis+sentinel://``
    URL, which redis-py's ``Redis.from_url`` cannot read, gets ``--connection-class``
    :class:`~transports.rq_queue.connection.BusRedis`. A Redis Cluster URL raises
    :class:`ConfigurationError` in one line: RQ cannot run on a cluster.
    """
    url = str(app.config.get("EVENTBUS_REDIS_URL", ""))
    if url and _is_cluster_url(url):
        raise ConfigurationError(
            f"RQ cannot run on a Redis Cluster (EVENTBUS_REDIS_URL is {mask_url(url)}): its "
            "commands span keys in several slots; give RQ one Redis or a redis+sentinel:// master"
        )
    settings = RQSettings.from_config(app.config)
    connection = (
        ["--connection-class", import_path(BusRedis)] if needs_bus_redis(settings.redis_url) else []
    )
    return [
        "rq",
        "worker",
        "--url",
        mask_url(settings.redis_url),
        *connection,
        "--worker-class",
        import_path(BusWorker),
        "--job-class",
        import_path(BusJob),
        "--serializer",
        import_path(JSONSerializer),
        "--disable-job-desc-logging",
        "--with-scheduler",
        *settings.queue_names(),
    ]


def _is_cluster_url(url: str) -> bool:
    try:
        return parse_address(url).topology == "cluster"
    except ValueError:  # RQSettings reports a malformed URL with the other settings
        return False


def import_path(cls: type) -> str:
    """The dotted path RQ imports ``cls`` by: its package's when the package exports it."""
    module = cls.__module__
    package = module.rpartition(".")[0]
    if package and getattr(sys.modules.get(package), cls.__qualname__, None) is cls:
        module = package
    return f"{module}.{cls.__qualname__}"
