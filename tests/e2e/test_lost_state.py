"""A turn that finds its call's state lost: an apology, what the bank says was
paid, and an agent (or, outside agent hours, goodbye); never a silent hang-up.
The store here loses everything as a flushed Redis would (the fault tests in
tests/faults/ do it to a real Redis, under gunicorn)."""
import pytest
from sqlalchemy import func, select

from banking_core.models import CallRecord, Handoff, Payment
from tests.e2e.test_call_flow import login_with_access_key, pay_wifi
from tests.e2e.test_call_rules import closed_now


@pytest.fixture(params=["sqlite"])
def database_url(request, sqlite_url):
    return sqlite_url


def lose_state(ivr_app):
    ivr_app.extensions["ivr"].store.forget_everything()


def to_summary(call):
    login_with_access_key(call)
    pay_wifi(call)
    heard = call.press("1")
    assert "Pagará" in heard.text


def payments(bank):
    with bank.unit_of_work() as uow:
        return list(uow.session.scalars(select(Payment.folio)))


def record(bank, call):
    with bank.unit_of_work() as uow:
        return uow.session.get(CallRecord, call.call_sid)


def test_lost_before_the_final_one_nothing_is_paid_and_an_agent_takes_the_call(
        dial, bank, ivr_app):
    call = dial()
    to_summary(call)
    lose_state(ivr_app)
    heard = call.press("1")
    assert "se perdió el avance de su llamada" in heard.text
    assert "no se realizó ningún pago" in heard.text
    assert "Le transferimos con un ejecutivo" in heard.text and call.last.transferred
    assert payments(bank) == []
    with bank.unit_of_work() as uow:
        assert uow.session.scalars(select(Handoff.reason)).one() == "state_lost"
    assert call.hang_up() == 204
    row = record(bank, call)
    assert row.outcome == "state_lost" and row.transfer_reason == "state_lost"
    assert row.folios == []


def test_lost_after_the_final_one_the_bank_says_it_was_paid(dial, bank, ivr_app):
    call = dial()
    to_summary(call)
    assert "Pago realizado" in call.press("1").text
    [folio] = payments(bank)
    lose_state(ivr_app)
    heard = call.press("1")  # at the folio menu
    assert "sí quedó registrado" in heard.text and "correo electrónico" in heard.text
    assert "no se realizó" not in heard.text and call.last.transferred
    assert call.hang_up() == 204
    assert payments(bank) == [folio]
    row = record(bank, call)
    assert row.outcome == "state_lost" and row.folios == [folio]


def test_outside_agent_hours_a_clear_goodbye_says_nothing_was_paid(
        dial, bank, ivr_app, monkeypatch):
    closed_now(ivr_app, bank, monkeypatch)
    call = dial()
    login_with_access_key(call)
    lose_state(ivr_app)
    heard = call.press("1")
    assert "se perdió el avance" in heard.text and "no se realizó ningún pago" in heard.text
    assert "no hay ejecutivos disponibles" in heard.text and "Hasta luego" in heard.text
    assert call.last.hung_up and not call.last.transferred
    assert record(bank, call).outcome == "state_lost"
    with bank.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Handoff)) == 0


def test_the_lost_turn_delivered_twice_is_answered_once(dial, bank, ivr_app):
    call = dial()
    login_with_access_key(call)
    action = call.last.gather["action"]
    lose_state(ivr_app)
    params = call._params(Digits="1")
    first = call.post(action, params)
    assert call.post(action, params) == first
    with bank.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Handoff)) == 1


def test_a_paid_call_whose_state_is_gone_at_its_end_is_recorded_with_its_folio(
        dial, bank, ivr_app):
    call = dial()
    to_summary(call)
    call.press("1")
    [folio] = payments(bank)
    lose_state(ivr_app)
    assert call.hang_up() == 204  # no turn came between the loss and the end
    row = record(bank, call)
    assert row.outcome == "state_lost" and row.folios == [folio]
