"""The call store's one Redis connection per thread (ivr/thread_connections.py),
against the real Redis: each thread keeps its own, a forked process takes its
own, a Redis that is away falls back to the pooled client's retries, and a
command cut off before its reply never leaves that reply for the next one."""
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ivr.state import CallState, RedisCallStore
from ivr.thread_connections import ThreadConnections
from tests import services

# Keeps Redis busy for `ARGV[1]` ms, then answers "late": a reply that arrives
# after the client stopped waiting for it.
_BUSY = """
local start = redis.call('TIME')
while true do
  local now = redis.call('TIME')
  if (now[1] - start[1]) * 1000000 + (now[2] - start[2]) > tonumber(ARGV[1]) * 1000 then
    return 'late'
  end
end
"""


@pytest.fixture
def pooled():
    client = services.redis_client(decode_responses=True)
    yield client
    client.close()


def connection_id(client) -> int:
    return client.client_id()


def test_a_thread_keeps_one_connection_and_threads_do_not_share(pooled):
    connections = ThreadConnections(pooled)
    mine = connections.get()
    assert connections.get() is mine
    assert connection_id(mine) == connection_id(mine)  # the same socket, command after command
    theirs = {}

    def other():
        client = connections.get()
        theirs["client"], theirs["id"] = client, connection_id(client)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert theirs["client"] is not mine
    assert theirs["id"] != connection_id(mine)


def test_a_forked_process_takes_its_own_connection(pooled):
    connections = ThreadConnections(pooled)
    key = f"test:threadconn:{uuid.uuid4().hex}"
    parent = connections.get()
    parent.set(key, "parent")
    parent_id = connection_id(parent)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own connection, and the parent's left alone
        try:
            child = connections.get()
            ok = child is not parent and connection_id(child) != parent_id \
                and child.get(key) == "parent"
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert connections.get() is parent
    assert connection_id(parent) == parent_id and parent.get(key) == "parent"
    parent.delete(key)


def test_a_redis_away_is_left_to_the_pooled_client():
    # Nothing listens on port 9 of the loopback: connecting fails at once.
    away = redis.Redis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.2)
    connections = ThreadConnections(away)
    assert connections.get() is away
    assert getattr(connections._local, "client", None) is None  # tried again next turn


def test_a_reply_that_came_too_late_is_never_read_as_the_next_one():
    # A client without retries that gives up after 0.1 s, on a command that
    # answers after 0.4 s: the connection must not keep that answer for the
    # next command (redis-py drops it; the pool's check is not there to).
    impatient = services.redis_client(decode_responses=True, socket_timeout=0.1,
                                      retry=Retry(NoBackoff(), 0))
    key = f"test:threadconn:{uuid.uuid4().hex}"
    impatient.set(key, "its own value")
    connections = ThreadConnections(impatient)
    client = connections.get()
    busy = client.register_script(_BUSY)
    with pytest.raises(redis.exceptions.TimeoutError):
        busy(args=[400], client=client)
    time.sleep(0.5)  # the script has answered by now, to the connection given up on
    assert client.get(key) == "its own value"
    client.delete(key)
    impatient.close()


def test_turns_on_many_threads_each_save_their_own_call(pooled):
    """The store's turns through per-thread connections, many at once: every
    call's state is its own (no reply read by another thread's turn)."""
    prefix = f"test:threadconn:{uuid.uuid4().hex}:"
    store = RedisCallStore(pooled, prefix=prefix)

    def calls(worker: int) -> int:
        for turn in range(25):
            sid = f"CA{worker:02d}{turn:030d}"
            with store.hold(sid) as slot:
                assert slot.state is None
                slot.save(CallState(call_sid=sid, node=f"n{worker}", turn=turn))
            with store.hold(sid) as slot:
                assert (slot.state.call_sid, slot.state.node, slot.state.turn) == \
                    (sid, f"n{worker}", turn)
        return worker

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:  # a failed turn raises here
            assert list(pool.map(calls, range(8))) == list(range(8))
    finally:
        for key in pooled.scan_iter(match=prefix + "*"):
            pooled.delete(key)
