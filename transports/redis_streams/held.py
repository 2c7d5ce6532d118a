"""Each publishing thread's own Redis connection, kept from one ``XADD`` to the next.

redis-py's ``Redis.execute_command`` takes a connection from the pool and gives it back for
every command: the pool's lock, a ``poll`` system call (``can_read``: is a reply left
unread?), its observability hooks and a retry closure, each time. Against a real Redis here
that was half of a one-round-trip ``XADD`` (35 µs through ``execute_command``, 17 µs on a kept
connection). :func:`command_sender` gives the transport a sender that takes one connection
per thread from the client's own pool, the first time the thread publishes, and keeps it:

- a command goes out with the connection's ``send_command`` and its reply is read with
  ``read_response``, under the connection's own ``retry`` as in ``execute_command`` (the
  publisher's client retries a connection error twice, never a timeout), and every retry
  starts on a fresh socket; health checks (``PING`` after ``health_check_interval`` idle
  seconds) and Sentinel's master lookup happen on the connection as before;
- any exception the retries do not absorb disconnects it too, so a reply left half read
  never answers the next command;
- the connection goes back to the pool when its thread ends (the thread's holder is
  dropped), a forked child takes one of its own (never the parent's socket), and
  ``client.close()`` disconnects it with the rest of the pool.

The reply is returned raw (no response callback: the transport does not read it). Only for
a plain ``redis.Redis`` (one server, or the master Sentinel watches): a cluster client routes
each command to the node of its slot, so it is called as usual, as is any other client.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any

import redis

__all__ = ["CommandSender", "ThreadConnections", "command_sender"]

CommandSender = Callable[[tuple[Any, ...]], Any]
"""Sends one command (its arguments, name first) and returns the reply."""


def command_sender(client: object) -> CommandSender:
    """A sender on per-thread connections for a ``redis.Redis``; else ``execute_command``."""
    if isinstance(client, redis.Redis):
        return ThreadConnections(client.connection_pool).execute
    # looked up at each call: a DeferredCluster finishes building itself on first use
    return lambda args: client.execute_command(*args)  # type: ignore[attr-defined]


class ThreadConnections:
    """One connection of ``pool`` per thread (and per process), kept between commands."""

    def __init__(self, pool: redis.ConnectionPool) -> None:
        self._pool = pool
        self._local = _Local()

    def execute(self, args: tuple[Any, ...]) -> Any:
        """Send ``args`` on this thread's connection; return the raw reply.

        Raises what ``execute_command`` raises: ``redis`` errors once the retries are spent
        (a connection error is retried as the connection's ``retry`` says), and a
        ``ResponseError`` for an error reply, which is never retried.
        """
        held = self._local.held
        if held is None or held.pid != os.getpid():
            held = self._local.held = _Held(self._pool)
        connection = held.connection
        try:
            return connection.retry.call_with_retry(
                lambda: _round_trip(connection, args),
                lambda _error: connection.disconnect(),  # type: ignore[no-untyped-call]
            )
        except BaseException:
            connection.disconnect()  # type: ignore[no-untyped-call]  # unsent, unread: all gone
            raise


def _round_trip(connection: redis.Connection, args: tuple[Any, ...]) -> Any:
    connection.send_command(*args)  # type: ignore[no-untyped-call]
    return connection.read_response()


class _Held:
    """A connection taken from ``pool`` by one thread of process ``pid``; back on release."""

    __slots__ = ("connection", "pid", "pool")

    def __init__(self, pool: redis.ConnectionPool) -> None:
        self.pool = pool
        self.pid = os.getpid()
        self.connection: redis.Connection = pool.get_connection()

    def __del__(self) -> None:
        """The thread ended (or was forked away from): the connection goes back to the pool
        (redis-py's ``release`` drops, and never closes, a connection of another process)."""
        with suppress(Exception):
            self.pool.release(self.connection)


class _Local(threading.local):
    held: _Held | None = None
