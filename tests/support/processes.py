"""Processes a test starts: each in its own session, ended with its whole tree, by pid.

An ``rq worker`` is a tree: the worker, its scheduler (a fork, in the worker's process group)
and a work horse per job (a fork that moves to a process group of its own). Killing the pids
listed a moment ago misses a process forked since, which then lives on, reparented to init.
:func:`kill_tree` freezes the tree first (``SIGSTOP``: a stopped process cannot fork), level by
level until no new descendant appears, then ``SIGKILL``s every member. It never signals a
process that is not the given root or one of its descendants.

Every process a test starts carries the test's owner token in its environment
(:data:`OWNER_VARIABLE`, set by the ``owned_processes_ended`` fixture of the tests that start
workers; forks inherit it, reparented or not): :func:`owned_by` finds what a test left
running, which the fixture ends and reports as a failure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import psutil

__all__ = [
    "OWNER_VARIABLE",
    "describe_process",
    "end",
    "freeze_tree",
    "kill_tree",
    "owned_by",
    "start_in_session",
    "stop_tree",
    "thaw",
]

OWNER_VARIABLE = "EVENTBUS_TEST_OWNER"
"""Environment variable naming the test (pid of pytest + a counter) that started a process."""


def start_in_session(
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    cwd: Path,
    output: IO[Any] | int | None = subprocess.DEVNULL,
    text: bool = False,
) -> subprocess.Popen[Any]:
    """Start ``command`` in a new session (its own process group); end it with :func:`kill_tree`."""
    return subprocess.Popen(
        list(command),
        cwd=cwd,
        env=dict(env),
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
        text=text,
        start_new_session=True,
    )


def freeze_tree(root: int) -> list[psutil.Process]:
    """SIGSTOP ``root`` and every descendant, level by level (a stopped process cannot fork),
    then once more for a child forked meanwhile; return them. Gone processes are skipped."""
    frozen: dict[int, psutil.Process] = {}
    frontier = [root]
    while frontier:
        found = []
        for pid in frontier:
            with contextlib.suppress(psutil.Error):
                process = psutil.Process(pid)
                process.send_signal(signal.SIGSTOP)
                frozen[pid] = process
                found += [child.pid for child in process.children() if child.pid not in frozen]
        frontier = found
    for process in list(frozen.values()):
        with contextlib.suppress(psutil.Error):
            for child in process.children(recursive=True):
                if child.pid not in frozen:
                    with contextlib.suppress(psutil.Error):
                        child.send_signal(signal.SIGSTOP)
                        frozen[child.pid] = child
    return list(frozen.values())


def thaw(processes: list[psutil.Process]) -> None:
    """SIGCONT what :func:`freeze_tree` stopped (each checked to be that same process)."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            if process.is_running():
                process.send_signal(signal.SIGCONT)


def kill_tree(root: int) -> list[int]:
    """SIGKILL ``root`` and every descendant, frozen first so none escapes; return the pids.

    Processes already gone are skipped; the caller reaps its own child (``Popen.wait``).
    """
    frozen = freeze_tree(root)
    for process in frozen:
        with contextlib.suppress(psutil.Error):
            process.send_signal(signal.SIGKILL)
    return [process.pid for process in frozen]


def end(process: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    """:func:`kill_tree` a process this test started, then reap it."""
    kill_tree(process.pid)
    process.wait(timeout=timeout)


def stop_tree(process: subprocess.Popen[Any], grace_s: float = 20.0) -> None:
    """Ask a process this test started to stop (SIGTERM, warm), give it ``grace_s``, then
    :func:`kill_tree` it; either way, end every descendant it had when asked (by pid, each
    checked to be that same process) and reap it."""
    try:
        before = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        before = []
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            kill_tree(process.pid)
            process.wait(timeout=30)
    for child in before:
        if child.is_running():  # psutil compares start times: never a reused pid
            kill_tree(child.pid)


def owned_by(token: str, *, prefix: bool = False) -> list[psutil.Process]:
    """Live processes (zombies excluded) whose environment carries ``token`` (or, with
    ``prefix``, a token starting with it), this one excepted."""
    owned = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        with contextlib.suppress(psutil.Error):
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            value = process.environ().get(OWNER_VARIABLE)
            if value is not None and (value == token or (prefix and value.startswith(token))):
                owned.append(process)
    return owned


def describe_process(process: psutil.Process) -> str:
    """``pid command...`` (short), or ``pid (gone)``."""
    try:
        return f"{process.pid} {' '.join(process.cmdline()[:4])[:100]}"
    except psutil.Error:
        return f"{process.pid} (gone)"
