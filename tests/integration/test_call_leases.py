"""A call's lock is a lease with a fencing token (ivr/leases.py), in the
process's store and in real Redis alike: a holder that stops renewing (its
worker died) frees the call within the lease, and the turn it held can no
longer save over the turn that took over; a live holder keeps it."""
import threading
import time
import uuid

import pytest

from ivr.leases import LEASE, LeaseLost
from ivr.state import CallState, MemoryCallStore, RedisCallStore
from tests import services

SID = "CA" + "5" * 32


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        yield MemoryCallStore()
        return
    client = services.redis_client(decode_responses=True)
    prefix = f"test:leases:{uuid.uuid4().hex}:"  # other suites share this Redis
    yield RedisCallStore(client, prefix=prefix)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
    client.close()


def hold_in_thread(store, *, dead: bool):
    """A turn that takes the call and keeps it until told; `dead`: its
    process's renewals stop, as a worker killed with SIGKILL."""
    taken, finish, outcome = threading.Event(), threading.Event(), {}

    def turn():
        with store.hold(SID) as slot:
            if dead:
                store._renewer.remove(SID, next(iter(store._renewer._held.values())))
            taken.set()
            finish.wait(10)
            try:
                slot.save(CallState(call_sid=SID, node="stale"))
                outcome["saved"] = True
            except LeaseLost:
                outcome["saved"] = False

    thread = threading.Thread(target=turn)
    thread.start()
    assert taken.wait(5)
    return thread, finish, outcome


def test_a_dead_holder_frees_the_call_within_the_lease_and_cannot_save_over_it(store):
    with store.hold(SID) as slot:
        slot.save(CallState(call_sid=SID, node="start"))
    thread, finish, outcome = hold_in_thread(store, dead=True)
    started = time.monotonic()
    with store.hold(SID) as slot:
        waited = time.monotonic() - started
        assert slot.state.node == "start"
        slot.save(CallState(call_sid=SID, node="newer"))
    assert waited < LEASE + 1.0, waited  # slack for a loaded machine; the old lock held 10 s
    finish.set()
    thread.join(5)
    assert outcome == {"saved": False}  # fenced off
    assert store.load(SID).node == "newer"


def test_a_live_holder_keeps_the_call_past_the_lease(store, monkeypatch):
    thread, finish, outcome = hold_in_thread(store, dead=False)
    time.sleep(LEASE * 1.5)  # renewed meanwhile, every RENEW_EVERY
    monkeypatch.setattr("ivr.state.LOCK_WAIT", 0.2)
    with pytest.raises(TimeoutError):
        with store.hold(SID):
            pass
    finish.set()
    thread.join(5)
    assert outcome == {"saved": True}
    assert store.load(SID).node == "stale"


def test_a_save_after_the_store_lost_everything_restores_the_call(store):
    """A flushed or restarted Redis drops the fence with the state: no newer
    turn can have taken the call, so the turn in progress may save it back."""
    with store.hold(SID) as slot:
        if isinstance(store, MemoryCallStore):
            store.forget_everything()
        else:
            store._redis.delete(*store._redis.keys(store._prefix + "*"))
        slot.save(CallState(call_sid=SID, node="kept"))
    assert store.load(SID).node == "kept"


def test_a_call_recording_keeps_its_last_turns(store, monkeypatch):
    """Each save appends its turns; past MAX_RECORDED_TURNS the oldest go,
    in the process's store and in Redis alike (there only when the list has
    grown past it: the script trims then)."""
    import ivr.state
    monkeypatch.setattr(ivr.state, "MAX_RECORDED_TURNS", 5)
    for turn in range(4):
        with store.hold(SID) as slot:
            state = slot.state or CallState(call_sid=SID)
            state.turn = turn
            state.recording = [{"turn": turn, "part": 1}, {"turn": turn, "part": 2}]
            slot.save(state)
        kept = store.load_recording(SID)
        assert len(kept) == min(2 * (turn + 1), 5)
    assert [(e["turn"], e["part"]) for e in store.load_recording(SID)] == \
        [(1, 2), (2, 1), (2, 2), (3, 1), (3, 2)]
    store.delete(SID)
