"""The session stores on the real servers: the database (SQLite and
PostgreSQL) and Redis keep, end and revoke sessions the same way."""
import threading
import uuid

import pytest

from banking_core.sessions import DatabaseSessionStore, RedisSessionStore, digest
from tests import services


class Clock:
    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self):
        return self.now


@pytest.fixture(params=["database", "redis"])
def store(request, bank):
    clock = Clock()
    if request.param == "database":
        yield DatabaseSessionStore(bank, clock=clock)
        return
    client = services.redis_client(decode_responses=True)
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    yield RedisSessionStore(client, prefix=prefix, clock=clock)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, database_url):
    return database_url


def test_a_session_is_kept_under_its_tokens_digest_only(store):
    token = store.open("credential:1", "web", lifetime=3600, idle=600, data='{"a":1}')
    record = store.get(token)
    assert record.principal == "credential:1" and record.channel == "web"
    assert record.data == '{"a":1}' and record.alive(store.clock())
    assert store.get(digest(token)) is None  # the stored key opens nothing


def test_idle_and_lifetime_end_a_session(store):
    token = store.open("agent:1", "desk", lifetime=3600, idle=600)
    store.clock.now += 500
    store.save(token)  # a request: idle counts again from here
    store.clock.now += 500
    assert store.get(token).alive(store.clock())
    store.clock.now += 601
    record = store.get(token)
    assert not record.alive(store.clock()) and record.ended_by_idleness(store.clock())
    fresh = store.open("agent:1", "desk", lifetime=3600, idle=600)
    for _ in range(8):  # used every 8 minutes, past its hour
        store.clock.now += 480
        store.save(fresh)
    assert not store.get(fresh).alive(store.clock())
    assert not store.get(fresh).ended_by_idleness(store.clock())


def test_end_all_ends_every_session_of_one_principal_only(store):
    mine = [store.open("credential:7", channel, lifetime=3600, idle=600)
            for channel in ("web", "web", "phone")]
    other = store.open("credential:8", "web", lifetime=3600, idle=600)
    assert store.end_all("credential:7") == 3
    assert all(store.get(token) is None for token in mine)
    assert store.get(other) is not None


def test_a_save_never_brings_an_ended_session_back(store):
    token = store.open("credential:3", "web", lifetime=3600, idle=600)
    store.end_all("credential:3")
    store.save(token, data='{"late": true}')
    assert store.get(token) is None


def test_sessions_opened_from_several_threads_are_all_listed_and_ended(store):
    """Concurrent log-ins of one principal (several workers) each add their
    session to the principal's list: one revocation ends them all."""
    tokens, lock = [], threading.Lock()

    def log_in():
        for _ in range(10):
            token = store.open("credential:9", "web", lifetime=3600, idle=600)
            with lock:
                tokens.append(token)

    workers = [threading.Thread(target=log_in) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    store.end_all("credential:9")
    assert all(store.get(token) is None for token in tokens)


def test_a_session_longer_than_a_day_is_refused(store):
    with pytest.raises(ValueError):
        store.open("agent:1", "desk", lifetime=2 * 24 * 3600, idle=600)
