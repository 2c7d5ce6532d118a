"""The RQ transport: one RQ job per (event, handler), run by RQ's own workers.

Named ``rq_queue`` so that it never shadows the ``rq`` library. The package's public names
are re-exported here; the modules beside this file hold them: ``transport`` (publishing and
the operator hooks ``from_config``, ``dead_letter_store`` and ``stats``), ``dispatcher`` (the
one function every bus job runs), ``worker`` (the safe job and worker classes RQ's own
``rq worker --worker-class transports.rq_queue.BusWorker`` runs), ``command`` (the
``rq worker`` line for an app), ``connection`` (the client class RQ's CLI needs for a
Sentinel URL), ``dead_letters`` (failed jobs as dead letters), ``stats``, ``settings`` and
``testing`` (burst draining in tests).
"""

from __future__ import annotations

from ..redis_common import mask_url
from .command import rq_command
from .connection import BusRedis
from .dead_letters import RQDeadLetterStore
from .dispatcher import DISPATCHER_NAME, dispatch, install, installed, runtime, uninstall
from .settings import RQSettings
from .testing import drain, pending_jobs
from .transport import RQTransport, dead_letter_store, from_config, stats
from .worker import (
    BusJob,
    BusSimpleWorker,
    BusWorker,
    build_worker,
    resolve_queues,
    routed_handlers,
)

__all__ = [
    "DISPATCHER_NAME",
    "BusJob",
    "BusRedis",
    "BusSimpleWorker",
    "BusWorker",
    "RQDeadLetterStore",
    "RQSettings",
    "RQTransport",
    "build_worker",
    "dead_letter_store",
    "dispatch",
    "drain",
    "from_config",
    "install",
    "installed",
    "mask_url",
    "pending_jobs",
    "resolve_queues",
    "routed_handlers",
    "rq_command",
    "runtime",
    "stats",
    "uninstall",
]
