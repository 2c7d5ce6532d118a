"""The processes section of ``flask events stats``: each live process and its routing."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask

import transports
from app.core.events.fingerprint import routing_differences, routing_fingerprint, routing_table

__all__ = ["process_lines"]


def process_lines(app: Flask) -> list[dict[str, Any]]:
    """One dict per live process (``process``, ``kind``, ``fingerprint``, ``age_s``,
    ``note``); a note says when its routing differs from a web process's or from this
    command's. Empty without a remote transport or when Redis does not answer."""
    if not app.extensions["eventbus"].transports:
        return []
    board = transports.process_board(app.config)
    if board is None:
        return []
    try:
        processes = board.processes()
    except Exception:
        return []
    finally:
        board.close()
    webs = [p for p in processes if p.get("kind") == "web"]
    reference = (
        dict(webs[0].get("routes") or {}) if webs else routing_table(app.extensions["eventbus"].bus)
    )
    against = "the web app's" if webs else "this command's"
    now = time.time()
    lines = []
    for entry in processes:
        routes = dict(entry.get("routes") or {})
        differs = routing_fingerprint(routes) != routing_fingerprint(reference)
        note = ""
        if differs:
            handlers = routing_differences(routes, reference)
            note = f"routing differs from {against}: {'; '.join(handlers)}"
        lines.append(
            {
                "process": f"{entry.get('kind')}@{entry.get('host')}:{entry.get('pid')}",
                "kind": entry.get("kind"),
                "fingerprint": entry.get("fingerprint"),
                "age_s": round(now - float(entry.get("seen_at", 0)), 1),
                "note": note,
            }
        )
    return lines
