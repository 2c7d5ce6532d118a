"""Every process records its routing and a heartbeat in Redis; workers compare with the web's.

A web process (as a gunicorn worker starts serving, else at its first request), ``flask
events worker`` (``streams-worker``), ``flask events rq-worker`` (``rq-worker``) and ``flask
events relay`` (``relay``) write a record under ``EVENTBUS_KEY_PREFIX``
(``transports.ProcessBoard``): kind, host, pid, routing table and its fingerprint, refreshed
every ``EVENTBUS_HEARTBEAT_S`` by a daemon thread. A
worker whose routing differs from a web process's logs ``routing.differs_from_web`` at start,
naming the handlers, and ``flask events stats`` shows it; ``flask events health KIND`` exits 0
only when a process of that kind on this host has beaten recently (compose healthchecks).

Nothing here ever stops a process: Redis being unreachable is logged and retried at the next
beat. An app whose handlers are all in-process has no Redis and records nothing. A command's
beat stops when the command returns; :func:`running_recorders` lists the recorders still
beating (the test suite stops those a test started, when it ends).
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

import click
from flask import Flask

import transports
from app.core.events.fingerprint import routing_differences, routing_fingerprint, routing_table
from app.log import get_logger

__all__ = [
    "KINDS",
    "ProcessRecorder",
    "record_command_process",
    "record_process",
    "record_web_start",
    "running_recorders",
    "watch_web_start",
]

KINDS = ("web", "streams-worker", "rq-worker", "relay")
_WEB_START = "eventbus_web_start"
_log = get_logger("eventbus.processes")
_running: dict[int, ProcessRecorder] = {}  # by id(): started, not stopped
_running_lock = threading.Lock()


class ProcessRecorder:
    """This process's record on the board, and the thread that keeps it fresh."""

    def __init__(self, app: Flask, kind: str, board: transports.ProcessBoard) -> None:
        self.kind = kind
        self.board = board
        self.interval_s = float(app.config["EVENTBUS_HEARTBEAT_S"])
        self.routes = routing_table(app.extensions["eventbus"].bus)
        self.record: dict[str, Any] = {
            "kind": kind,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "fingerprint": routing_fingerprint(self.routes),
            "routes": self.routes,
        }
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> bool:
        """Write the record now; ``False`` (logged) when Redis did not take it."""
        try:
            self.board.record(self.record, forget_after_s=self.interval_s * 6)
        except Exception as exc:
            _log.warning("process.beat_failed", kind=self.kind, error=type(exc).__name__)
            return False
        return True

    def differences_from_web(self) -> list[str]:
        """Handlers this process routes otherwise than a live web process (empty: none, or
        no web process recorded yet)."""
        try:
            processes = self.board.processes()
        except Exception:
            return []
        for other in processes:
            if (
                other.get("kind") == "web"
                and other.get("fingerprint") != self.record["fingerprint"]
            ):
                return routing_differences(self.routes, dict(other.get("routes") or {}))
        return []

    def start(self, *, first_beat_now: bool = True) -> None:
        """Beat every ``EVENTBUS_HEARTBEAT_S`` in a daemon thread; the first beat now, or (a
        web request must not wait on Redis) as the thread's first step. The recorder is
        among :func:`running_recorders` until :meth:`stop`."""
        if first_beat_now:
            self.beat()
        with _running_lock:
            _running[id(self)] = self
        self._thread = threading.Thread(
            target=self._run, args=(not first_beat_now,), name=f"eventbus-{self.kind}-beat"
        )
        self._thread.daemon = True
        self._thread.start()

    def stop(self, wait_s: float = 0.0) -> bool:
        """Stop beating (the record lapses by itself); idempotent. With ``wait_s``, wait that
        long at most for the thread to end (a beat under way finishes first), then close the
        board's connection. ``True`` when no thread of this recorder runs any more."""
        self._stop.set()
        with _running_lock:
            _running.pop(id(self), None)
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return thread is None
        if wait_s > 0:
            thread.join(wait_s)
            if not thread.is_alive():
                self.board.close()
        return not thread.is_alive()

    def _run(self, beat_first: bool) -> None:
        if beat_first:
            self.beat()
        while not self._stop.wait(self.interval_s):
            self.beat()


def running_recorders() -> list[ProcessRecorder]:
    """The recorders started in this process and not stopped since, oldest first."""
    with _running_lock:
        return list(_running.values())


def record_process(app: Flask, kind: str) -> ProcessRecorder | None:
    """Record this process as ``kind`` and keep it fresh; warn (and return the recorder)
    when its routing differs from a web process's. ``None`` without a remote transport."""
    if not app.extensions["eventbus"].transports:
        return None
    board = transports.process_board(app.config)
    if board is None:
        return None
    recorder = ProcessRecorder(app, kind, board)
    recorder.start(first_beat_now=kind != "web")
    differences = recorder.differences_from_web() if kind != "web" else []
    if differences:
        _log.warning(
            "routing.differs_from_web",
            kind=kind,
            fingerprint=recorder.record["fingerprint"],
            handlers=differences,
            fix="start every process with the same EVENTBUS_TRANSPORT and EVENTBUS_ROUTES",
        )
    app.extensions[f"eventbus_process_{kind}"] = recorder
    return recorder


def record_command_process(app: Flask, kind: str) -> ProcessRecorder | None:
    """:func:`record_process` for the ``flask events`` command running now: its beat stops
    when the command returns (its Click context closes). The process exits then anyway; an
    app that runs the command in-process (a test, a script) is left with no thread beating
    for a command that is over."""
    recorder = record_process(app, kind)
    if recorder is not None:
        click.get_current_context().call_on_close(recorder.stop)
    return recorder


def watch_web_start(app: Flask) -> None:
    """Record the web process once: when the server says it serves (:func:`record_web_start`,
    gunicorn's ``post_worker_init`` hook) or at its first request, whichever comes first (a
    command builds the app too, and is no web process). A failure to record is logged, never
    raised: a web process starts and serves with Redis down."""
    started = threading.Lock()
    done: list[bool] = []

    def record_once() -> None:
        if done:
            return
        with started:
            if not done:
                done.append(True)
                try:
                    record_process(app, "web")
                except Exception as exc:
                    _log.warning("process.record_failed", kind="web", error=type(exc).__name__)

    app.extensions[_WEB_START] = record_once
    app.before_request(record_once)


def record_web_start(app: object) -> bool:
    """Record ``app``'s web process now, as it starts serving (so ``flask events stats`` right
    after a deploy lists it before any request came); ``False`` when ``app`` is not one built
    by ``create_app``. Never waits on Redis: the first beat is in the recorder's thread."""
    extensions = getattr(app, "extensions", None)
    record_once = extensions.get(_WEB_START) if isinstance(extensions, dict) else None
    if record_once is None:
        return False
    record_once()
    return True
