"""A module no bus worker may ever import: importing it writes a marker file.

A hand-written job naming ``tests.transports.rq_queue.tripwire.detonate`` proves the bus's job class
refuses the job before RQ imports the path it names (``EVENTBUS_TRIPWIRE`` holds the file).
"""

from __future__ import annotations

import os
from pathlib import Path

_marker = os.environ.get("EVENTBUS_TRIPWIRE")
if _marker:
    Path(_marker).write_text("imported\n")


def detonate(*args: object) -> None:
    """Never called by a bus worker."""
    if _marker:
        Path(_marker).write_text("called\n")
