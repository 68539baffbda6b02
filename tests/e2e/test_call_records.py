"""A completed call closes its state and records how it ended (drop-off reporting)."""
import datetime as dt

import pytest
from sqlalchemy import select

from banking_core.models import CallRecord, Payment
from qa.twilio_sim import CallError
from tests.e2e.test_call_flow import login_with_access_key, pay_wifi


def record(bank, call):
    with bank.unit_of_work() as uow:
        return uow.session.get(CallRecord, call.call_sid)


def test_a_paid_call_that_said_goodbye_is_recorded_with_its_folio(dial, bank):
    call = dial()
    login_with_access_key(call)
    pay_wifi(call)
    call.press("1")
    call.press("1")
    call.press("3")  # end the call: the IVR says goodbye and hangs up
    assert call.last.hung_up
    assert call.hang_up() == 204
    with bank.unit_of_work() as uow:
        folio = uow.session.scalars(select(Payment.folio)).one()
    row = record(bank, call)
    assert row.outcome == "ivr_hung_up" and row.call_status == "completed"
    assert row.folios == [folio]
    assert row.customer_id is not None and row.login_method == "access_key"
    assert row.caller == "+523336693552" and row.duration_seconds == call.leg.duration() > 60
    assert row.started_at <= row.ended_at
    assert row.turns >= 10


def test_a_caller_who_hangs_up_mid_menu_leaves_the_node_where_it_happened(dial, bank):
    call = dial()
    login_with_access_key(call)
    call.press("1")
    assert call.hang_up() == 204
    row = record(bank, call)
    assert row.outcome == "caller_hung_up" and row.last_node == "accounts_menu"
    assert row.folios == [] and row.transfer_reason is None


def test_a_transfer_records_its_reason(dial, bank):
    call = dial()
    call.press("0")
    assert call.last.transferred
    assert call.hang_up() == 204
    row = record(bank, call)
    assert row.outcome == "transferred" and row.transfer_reason == "caller_request"
    assert row.customer_id is None


def test_a_repeated_status_callback_keeps_the_first_record(dial, bank):
    call = dial()
    login_with_access_key(call)
    assert call.hang_up() == 204
    first = record(bank, call)
    assert call.hang_up(status="completed") == 204  # Twilio retried the callback
    again = record(bank, call)
    assert (again.outcome, again.last_node, again.turns) == \
        (first.outcome, first.last_node, first.turns)


def test_a_call_we_never_answered_is_still_recorded(dial, bank):
    from qa.simulator import SimulatedCall
    call = dial()
    other = SimulatedCall(call.transport, base_url=call.base_url, auth_token="unused",
                          twilio=call.twilio)  # busy: never answered, only reported
    assert other.hang_up(status="busy") == 204
    row = record(bank, other)
    assert row.outcome == "caller_hung_up" and row.call_status == "busy"
    assert row.turns == 0 and row.last_node is None


def test_the_report_counts_outcomes_reasons_and_drop_off_nodes(dial, bank):
    for keys in (["0"], ["1", "10000001", "1357", "1"], ["1", "10000001", "1357", "1"]):
        call = dial()
        for k in keys:
            call.press(k)
        call.hang_up()
    report = bank.call_report()
    assert report.total == 3
    assert report.by_outcome == {"caller_hung_up": 2, "transferred": 1}
    assert report.transfers_by_reason == {"caller_request": 1}
    assert report.hang_ups_by_node == {"accounts_menu": 2}
    assert report.calls_with_payment == 0
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1)
    assert bank.call_report(since=later).total == 0


def test_a_failure_while_recording_loses_nothing_and_the_retry_finishes(dial, bank, ivr_app,
                                                                        monkeypatch):
    """Records first, cleanup after: the database failing as the call ends
    answers 500 (Twilio may retry) and keeps the state; the next delivery
    records the call as it really went, with its transcript."""
    from banking_core.call_transcripts import load_transcript

    call = dial()
    login_with_access_key(call)
    call.press("1")
    real = bank.record_call_end

    def database_down(end):
        raise ConnectionError("the database restarted")

    monkeypatch.setattr(bank, "record_call_end", database_down)
    with pytest.raises(CallError, match="status answered 500"):  # logged by Twilio
        call.hang_up()
    assert ivr_app.extensions["ivr"].store.load(call.call_sid) is not None
    assert record(bank, call) is None
    monkeypatch.setattr(bank, "record_call_end", real)
    assert call.hang_up(status="completed") == 204
    row = record(bank, call)
    assert row.outcome == "caller_hung_up" and row.last_node == "accounts_menu"
    assert row.customer_id is not None and row.turns >= 4
    assert load_transcript(bank, call.call_sid) is not None
    assert ivr_app.extensions["ivr"].store.load(call.call_sid) is None
