"""A process forked while another thread logs can log (``app.log_writer``).

An RQ worker forks a work horse per job from a process with other threads (RQ's pubsub
thread, the bus's heartbeat thread, an application's own). structlog's own writer keeps a
per-file lock that ``fork()`` copies as it is: a child forked while another thread was
writing a line blocked at its first log line (17 of 20 children with one thread logging in a
loop), and a work horse so blocked runs until its worker kills it at job timeout + 60 s.
Here a separate Python process configures the app's logging, keeps one thread logging
(structlog, or a stdlib logger through the root handler) and forks 20 children that each log
one line with a 5 s alarm: none may hang.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.rq_workers import REPO_ROOT

FORKS = 20

SCRIPT = """
import logging, os, signal, sys, threading
from app.log import configure_logging, get_logger
configure_logging("INFO", "json")
bound, stdlib = get_logger("chatter"), logging.getLogger("chatter")
chatter = bound.info if sys.argv[1] == "structlog" else stdlib.warning
stop = threading.Event()
def chatter_until_stopped():
    while not stop.is_set():
        chatter("chatter")
thread = threading.Thread(target=chatter_until_stopped)
thread.start()
hung = 0
for number in range(int(sys.argv[2])):
    pid = os.fork()
    if pid == 0:
        signal.alarm(5)  # default action: the child ends, counted as hung
        get_logger("child").info("child", number=number)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    hung += os.WIFSIGNALED(status)
stop.set()  # a daemon thread still writing at interpreter shutdown can abort the process
thread.join()
print(hung, file=sys.__stdout__, flush=True)
"""


@pytest.mark.parametrize("writer", ["structlog", "stdlib"])
@pytest.mark.parametrize("unbuffered", ["1", ""])
def test_children_forked_while_a_thread_logs_can_log(writer: str, unbuffered: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, writer, str(FORKS)],
        cwd=REPO_ROOT,
        env={"PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": unbuffered, "PATH": "/usr/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        timeout=FORKS * 5 + 60,
        check=True,
    )
    assert result.stdout.strip() == "0", f"{result.stdout.strip()} of {FORKS} children hung"
