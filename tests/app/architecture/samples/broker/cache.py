"""Imports a broker library at the top and inside a function."""

import redis


def client() -> redis.Redis:
    return redis.Redis()


def queue_name() -> str:
    from rq import Queue

    return Queue.__name__
