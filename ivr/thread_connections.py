"""One Redis connection per thread for the call store's turns.

redis-py's pooled client takes a connection from its pool and gives it back
around every command: the pool's lock, a check that the connection holds no
unread reply (a non-blocking recv and two socket mode switches), and the
pool's usage metrics both ways. On this kind of machine that is about 20 µs
of a GET's 45 µs of client CPU, and a turn sends two commands (bench/README.md,
"one connection per thread"). A thread serves one turn at a time and sends
its commands one after another, so each thread keeps one connection of the
same pool for itself (redis-py's `single_connection_client`) and skips that.

What the pool's check guarded against cannot happen to a kept connection:
redis-py drops a connection on any exception between a command and its reply
(Connection.send_packed_command and read_response disconnect on
BaseException), so none is left holding a stale reply. Retries, timeouts and
decoding are the connection's, set on the pool, so they stay what the pooled
client has (ivr/state.py, redis_client).
"""
from __future__ import annotations

import os
import threading

import redis


class ThreadConnections:
    """`get()` answers the calling thread's own client on `pooled`'s pool."""

    def __init__(self, pooled: redis.Redis):
        self.pooled = pooled
        self._local = threading.local()

    def get(self) -> redis.Redis:
        local = self._local
        client = getattr(local, "client", None)
        # A process forked after this thread took its connection (gunicorn's
        # preloaded master) must not share the parent's socket: the child
        # takes its own (redis-py's pool notices the fork and starts afresh).
        if client is not None and local.pid == os.getpid():
            return client
        try:
            client = redis.Redis(connection_pool=self.pooled.connection_pool,
                                 single_connection_client=True)
        except redis.RedisError:
            # Taking a connection connects at once, with no retry: while Redis
            # is away the pooled client's commands, which retry, ride it out
            # (or raise what the store's callers catch: ivr/state.py,
            # STORE_UNAVAILABLE).
            return self.pooled
        local.client, local.pid = client, os.getpid()
        return client
