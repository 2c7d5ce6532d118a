"""Run by the outbox crash test in a subprocess: commit events, then die with ``os._exit``.

``after-commit``: commit ``count`` requests and die before any relay runs.
``after-send``: commit them, let the relay send one batch to Redis, and die before it marks
the batch sent. The app is built from ``FLASK_*`` environment variables. Exit code 17.
"""

from __future__ import annotations

import os
import sys

from app import create_app
from app.core.outbox import EXTENSION, Claim


def main(mode: str, start: int, count: int) -> None:
    app = create_app()
    client = app.test_client()
    for n in range(start, start + count):
        if client.post(f"/ledger/{n}").status_code != 201:
            sys.exit(1)
    if mode == "after-send":
        relay = app.extensions[EXTENSION]

        def die(claim: Claim, set_aside: object = ()) -> bool:
            os._exit(17)

        relay.store.mark_sent = die
        relay.run_once()
        sys.exit(2)  # nothing was claimed: the test would not exercise the gap
    os._exit(17)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
