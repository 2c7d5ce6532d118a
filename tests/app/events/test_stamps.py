"""Event ids: 32 hex characters, unique within a process (threads too) and across processes,
a forked child included (it draws its own prefix before it makes any id)."""

from __future__ import annotations

import os
import re
import threading

from app.core.events.stamps import new_event_id

HEX32 = re.compile(r"[0-9a-f]{32}")


def test_ids_are_32_hex_characters_and_never_repeat_across_threads() -> None:
    found: list[list[str]] = [[] for _ in range(4)]

    def make(into: list[str]) -> None:
        into.extend(new_event_id() for _ in range(5000))

    threads = [threading.Thread(target=make, args=(into,)) for into in found]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    ids = [event_id for into in found for event_id in into]
    assert len(ids) == 20_000 and len(set(ids)) == 20_000
    assert all(HEX32.fullmatch(event_id) for event_id in ids)


def test_a_forked_child_makes_ids_its_parent_never_makes() -> None:
    before = new_event_id()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report two ids, then leave without running any teardown
        try:
            os.write(writer, f"{new_event_id()} {new_event_id()}".encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        child = pipe.read().split()
    os.waitpid(pid, 0)
    after = new_event_id()
    assert len(child) == 2 and all(HEX32.fullmatch(event_id) for event_id in child)
    assert child[0][:16] != before[:16], "the child drew a prefix of its own"
    assert child[0][:16] == child[1][:16] and child[0] != child[1]
    assert after[:16] == before[:16] and after not in child, "the parent's ids go on"
