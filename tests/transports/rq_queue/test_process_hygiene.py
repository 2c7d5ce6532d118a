"""The RQ tests end what they start: a whole process tree, and orphans too.

``kill_tree`` must end a worker-like tree (a parent, its fork, a grandchild in a process group
of its own, like RQ's work horse) and nothing else; ``owned_by`` must find a process its
parent left behind (reparented to init), which is how the ``owned_processes_ended`` fixture
fails a test that leaves one running.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

import psutil

from tests.support.processes import OWNER_VARIABLE, end, kill_tree, owned_by, start_in_session
from tests.support.rq_workers import REPO_ROOT

TREE = """
import os, sys, time
if os.fork() == 0:          # like RQ's scheduler: same process group
    if os.fork() == 0:      # like RQ's work horse: a group of its own
        os.setpgrp()
    time.sleep(60)
    os._exit(0)
time.sleep(60)
"""

ORPHAN = """
import os, time
if os.fork() == 0:
    time.sleep(60)
    os._exit(0)
os._exit(0)                 # the parent goes: its child is reparented
"""


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


def test_kill_tree_ends_the_whole_tree() -> None:
    process = start_in_session([sys.executable, "-c", TREE], dict(os.environ), cwd=REPO_ROOT)
    root = psutil.Process(process.pid)
    _wait_for(lambda: len(root.children(recursive=True)) == 2, "the tree is up")
    members = [root, *root.children(recursive=True)]
    end(process)
    _, alive = psutil.wait_procs(members, timeout=10)
    assert alive == [] and process.returncode == -9


def test_an_orphan_is_found_by_its_owner_token(owned_processes_ended: str) -> None:
    assert os.environ[OWNER_VARIABLE] == owned_processes_ended
    process = start_in_session([sys.executable, "-c", ORPHAN], dict(os.environ), cwd=REPO_ROOT)
    process.wait(timeout=30)
    _wait_for(lambda: len(owned_by(owned_processes_ended)) == 1, "the orphan is found")
    [orphan] = owned_by(owned_processes_ended)
    assert orphan.ppid() != os.getpid()  # not our child any more
    kill_tree(orphan.pid)
    _wait_for(lambda: not owned_by(owned_processes_ended), "the orphan is gone")


def test_another_tests_process_is_not_ours_but_the_sessions(owned_processes_ended: str) -> None:
    env = {**os.environ, OWNER_VARIABLE: f"{os.getpid()}-another-test"}
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    process = start_in_session(command, env, cwd=REPO_ROOT)
    try:
        _wait_for(lambda: bool(owned_by(f"{os.getpid()}-", prefix=True)), "seen as the session's")
        assert owned_by(owned_processes_ended) == []
        assert [p.pid for p in owned_by(f"{os.getpid()}-", prefix=True)] == [process.pid]
    finally:
        end(process)


def test_end_of_a_process_already_gone_is_quiet() -> None:
    process = start_in_session([sys.executable, "-c", "pass"], dict(os.environ), cwd=REPO_ROOT)
    process.wait(timeout=30)
    end(process)
    assert process.returncode == 0
