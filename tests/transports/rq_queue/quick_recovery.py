"""Bus workers that give up on a dead worker's job after 1 s instead of RQ's fixed 60 s.

Used by ``--worker-class`` in the recovery tests so that RQ's abandoned-job handling (heartbeat
expiry, then the next maintenance run of another worker) takes seconds.
"""

from __future__ import annotations

from transports.rq_queue import BusSimpleWorker, BusWorker

__all__ = ["QuickRecoverySimpleWorker", "QuickRecoveryWorker"]


class QuickRecoverySimpleWorker(BusSimpleWorker):
    """A job's heartbeat lasts its timeout plus 1 s."""

    heartbeat_grace = 1


class QuickRecoveryWorker(BusWorker):
    """A job's heartbeat lasts the monitoring interval plus 1 s; a scheduler silent for 3 s
    is dead."""

    heartbeat_grace = 1
    scheduler_stale_after = 3
