"""The turn that lost its lease, and the call whose records had to wait."""
import threading

import pytest
from sqlalchemy import func, select

from banking_core.models import CallRecord, Handoff
from ivr.call_end import REPORTED, finish_reported
from qa.twilio_sim import CallError
from tests.e2e.test_call_flow import login_with_access_key


@pytest.fixture(params=["sqlite"])
def database_url(request, sqlite_url):
    return sqlite_url


@pytest.fixture(params=["say"])
def prompt_mode(request):
    return request.param


def test_a_turn_whose_holder_died_is_answered_by_the_retry_and_the_late_one_cannot_save(
        dial, ivr_app, monkeypatch):
    """The first delivery stalls holding the call and stops renewing (its
    worker presumed dead); Twilio's retry takes the call after the lease, runs
    the turn and answers. When the stalled one wakes, its save is fenced off
    and it answers where the call now stands: the same, run once."""
    call = dial()
    login_with_access_key(call)
    store, interpreter = ivr_app.extensions["ivr"].store, ivr_app.extensions["ivr"].interpreter
    handle, inside, wake, runs = interpreter.handle, threading.Event(), threading.Event(), []

    def stalled_first(state, event):
        runs.append(event)
        if len(runs) == 1:
            store._renewer._held.clear()  # its renewals stop, as a killed worker's do
            inside.set()
            wake.wait(10)
        return handle(state, event)

    monkeypatch.setattr(interpreter, "handle", stalled_first)
    action, params = call.last.gather["action"], call._params(Digits="1")
    first = {}
    late = threading.Thread(target=lambda: first.update(answer=call.post(action, params)))
    late.start()
    assert inside.wait(5)
    retried = call.post(action, params)
    wake.set()
    late.join(10)
    assert retried[0] == 200 and first["answer"] == retried
    assert len(runs) == 2 and store.load(call.call_sid).turn == 5
    assert [t["turn"] for t in store.load_recording(call.call_sid)].count(5) == 1


def test_records_the_database_could_not_take_are_finished_by_the_sweep(
        dial, bank, ivr_app, monkeypatch):
    call = dial()
    login_with_access_key(call)
    call.press("0")  # to an agent
    real = bank.record_call_end

    def database_down(end):
        raise ConnectionError("the database is down")

    monkeypatch.setattr(bank, "record_call_end", database_down)
    with pytest.raises(CallError, match="status answered 500"):
        call.hang_up()
    store = ivr_app.extensions["ivr"].store
    state = store.load(call.call_sid)
    assert state.vars[REPORTED] == {"call_status": "completed",
                                    "duration": call.leg.duration()}
    monkeypatch.setattr(bank, "record_call_end", real)
    with ivr_app.app_context():
        assert finish_reported(bank, store, state)
    assert store.load(call.call_sid) is None
    with bank.unit_of_work() as uow:
        row = uow.session.get(CallRecord, call.call_sid)
        assert row.outcome == "transferred" and row.transfer_reason == "caller_request"
        assert uow.session.scalar(select(func.count()).select_from(Handoff)) == 1
