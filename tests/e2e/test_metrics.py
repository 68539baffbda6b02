"""/metrics after real calls placed as Twilio places them: each counter moves
by what the calls did, read back with prometheus_client's own parser, on
SQLite and on PostgreSQL (the bank's numbers are SQL on both)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from banking_core import notifications
from banking_core.models import CallRecord
from tests.e2e.test_call_flow import login_with_access_key, pay_wifi
from tests.ops.helpers import closed_port, scrape


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, database_url):
    return database_url


@pytest.fixture
def prompt_mode():
    return "say"  # what is counted does not depend on how prompts are spoken


def turns_of(bank, call) -> int:
    with bank.unit_of_work() as uow:
        return uow.session.get(CallRecord, call.call_sid).turns


def delta(after, before, name, **labels) -> float:
    return after.get_value(name, **labels) - before.get_value(name, **labels)


def test_a_paid_call_moves_turns_latency_payments_calls_and_the_outbox(dial, ivr_app, bank):
    client = ivr_app.test_client()
    before = scrape(client)
    call = dial()
    login_with_access_key(call)
    pay_wifi(call)
    call.press("1")
    call.press("1")
    call.press("3")  # the IVR says goodbye and hangs up
    assert call.last.hung_up and call.hang_up() == 204
    after = scrape(client)

    turns = turns_of(bank, call)
    assert turns >= 10
    assert after.total("ivr_turns_total") - before.total("ivr_turns_total") == turns
    assert delta(after, before, "ivr_turn_duration_seconds_count") == turns
    assert after.total("ivr_turns_total", outcome="hangup") \
        - before.total("ivr_turns_total", outcome="hangup") == 1
    assert delta(after, before, "ivr_turns_total", node="login_method", outcome="continue") == 1
    assert delta(after, before, "ivr_turns_total", node="goodbye", outcome="hangup") == 1
    assert delta(after, before, "bank_payments_total", channel="phone") == 1
    assert delta(after, before, "bank_payments_total", channel="web") == 0
    assert delta(after, before, "ivr_calls_total", outcome="ivr_hung_up",
                 transfer_reason="") == 1
    assert delta(after, before, "outbox_pending_messages") == 1
    assert after.get_value("bank_metrics_up") == 1

    # The mail server refuses (nothing listens on its port): one failed
    # delivery, the e-mail still pending.
    sender = notifications.SmtpSender(host="127.0.0.1", port=closed_port(), timeout=2)
    result = notifications.deliver_due(bank, sender, mail_from="ld@example.com")
    assert result.failed == 1
    later = scrape(client)
    assert delta(later, after, "outbox_delivery_failures_total") == 1
    assert later.get_value("outbox_pending_messages") == after.get_value(
        "outbox_pending_messages")
    assert later.get_value("outbox_oldest_pending_seconds") >= 0


def test_a_transfer_counts_its_reason_and_the_caller_waiting(dial, ivr_app):
    client = ivr_app.test_client()
    before = scrape(client)
    call = dial()
    call.press("0")
    assert call.last.transferred
    waiting = scrape(client)
    assert waiting.get_value("handoffs_waiting") == before.get_value("handoffs_waiting") + 1
    assert waiting.total("ivr_turns_total", outcome="transfer") \
        - before.total("ivr_turns_total", outcome="transfer") == 1
    assert call.hang_up() == 204
    after = scrape(client)
    assert after.get_value("handoffs_waiting") == before.get_value("handoffs_waiting")
    assert delta(after, before, "ivr_calls_total", outcome="transferred",
                 transfer_reason="caller_request") == 1


def test_containment_is_computed_from_the_calls_counter(dial, ivr_app):
    """The runbook's ratio: calls that ended without an agent over all calls."""
    client = ivr_app.test_client()
    before = scrape(client)
    for keys in ("", "0", ""):
        call = dial()
        if keys:
            call.press(keys)
        call.hang_up()
    after = scrape(client)
    ended = after.total("ivr_calls_total") - before.total("ivr_calls_total")
    transferred = after.total("ivr_calls_total", outcome="transferred") \
        - before.total("ivr_calls_total", outcome="transferred")
    assert (ended, transferred) == (3, 1)
    assert (ended - transferred) / ended == pytest.approx(2 / 3)


def test_wrong_nips_count_as_failures_and_the_block_shows(dial, ivr_app):
    client = ivr_app.test_client()
    before = scrape(client)
    call = dial()
    for attempt in range(3):
        if attempt:
            call.press("*")  # back to the log-in menu
        login_with_access_key(call, key="10000002", nip="0000")
    after = scrape(client)
    assert delta(after, before, "bank_login_failures_total", method="access_key",
                 reason="wrong_nip") == 3
    assert delta(after, before, "bank_credentials_blocked", kind="access_key") == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_failed_turn_is_counted_as_a_webhook_error(dial, ivr_app, bank):
    """A real fault (the call records' table gone, as after a broken
    migration): the first turn fails, the caller hears the technical-problem
    transfer, and the error is counted."""
    client = ivr_app.test_client()
    before = scrape(client)
    with bank.engine.begin() as connection:
        connection.execute(text("DROP TABLE call_records"))
    call = dial()
    assert call.last.transferred
    after = scrape(client)
    assert delta(after, before, "ivr_webhook_errors_total", endpoint="ivr.voice") == 1
    assert after.get_value("bank_metrics_up") == 0  # its query of call_records fails too
