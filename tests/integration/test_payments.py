import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from banking_core import errors, ledger
from banking_core.folios import is_valid_folio
from banking_core.models import Entry, OutboxMessage, Payment
from tests.integration.helpers import account_id, ana, balance, carlos, pay

MEXICO = ZoneInfo("America/Mexico_City")


def test_a_payment_moves_money_records_a_folio_and_queues_the_email(demo, clock):
    clock.set(dt.datetime(2026, 11, 20, 18, 30, 5, tzinfo=dt.timezone.utc))
    customer = ana(demo)
    receipt = pay(demo, customer, amount=65050)

    assert is_valid_folio(receipt.folio) and not receipt.replayed
    assert receipt.service_name == "Runtime WiFi Internet residencial"
    assert receipt.account_last4 == "5671" and receipt.references == ("9876543217",)
    assert receipt.local_posted_at.strftime("%d/%m/%Y %H:%M") == "20/11/2026 12:30"
    assert balance(demo, customer, "5671") == 2_500_000 - 65050

    with demo.unit_of_work() as uow:
        s = uow.session
        payment = s.scalars(select(Payment)).one()
        legs = sorted(s.execute(select(Entry.amount_centavos)
                                .where(Entry.transfer_id == payment.transfer_id)).scalars())
        assert legs == [-65050, 65050]
        # The e-mail; the biller's webhook is queued beside it (test_biller_webhooks.py).
        message = s.scalars(select(OutboxMessage)
                            .where(OutboxMessage.kind == "payment_confirmation")).one()
        assert message.recipient == "ana@example.com" and message.status == "pending"
        assert message.payload["folio"] == receipt.folio
        assert message.payload["amount"] == "$650.50"
        assert (message.payload["date"], message.payload["time"]) == ("20/11/2026", "12:30:05")
        assert message.payload["account_last4"] == "5671"
        assert ledger.account_balance(s, payment.account_id) == 2_500_000 - 65050
    assert demo.verify().ok


def test_the_same_key_and_request_returns_the_first_folio(demo):
    customer = ana(demo)
    first = pay(demo, customer, key="call-CA123-turn-9")
    again = pay(demo, customer, key="call-CA123-turn-9", references=["9876-543217"])
    assert again.folio == first.folio and again.replayed
    assert balance(demo, customer, "5671") == 2_500_000 - 65000
    with demo.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Payment)) == 1


def test_the_same_key_with_a_different_request_is_an_error(demo):
    customer = ana(demo)
    pay(demo, customer, key="web-form-token-1")
    with pytest.raises(errors.IdempotencyConflict):
        pay(demo, customer, key="web-form-token-1", amount=65001)
    with pytest.raises(errors.IdempotencyConflict):
        pay(demo, customer, key="web-form-token-1", last4="5432")


def test_insufficient_funds_posts_nothing(demo):
    customer = carlos(demo)
    with pytest.raises(errors.InsufficientFunds) as caught:
        pay(demo, customer, last4="0002", amount=15001)
    assert caught.value.details["balance"] == 15000
    assert pay(demo, customer, last4="0002", amount=15000).amount_centavos == 15000
    assert balance(demo, customer, "0002") == 0
    with pytest.raises(errors.InsufficientFunds):
        pay(demo, customer, last4="0002", amount=100)
    assert demo.verify().ok


def test_the_daily_limit_is_per_channel_and_resets_at_mexico_city_midnight(demo, clock):
    customer = ana(demo)
    clock.set(dt.datetime(2026, 11, 20, 23, 0, tzinfo=MEXICO))
    pay(demo, customer, amount=1_500_000, channel="phone")
    with pytest.raises(errors.OverDailyLimit) as caught:
        pay(demo, customer, amount=500_001, channel="phone")
    assert caught.value.details == {"limit": 2_000_000, "spent": 1_500_000,
                                    "available": 500_000}
    pay(demo, customer, amount=200_000, channel="web")  # the web's limit is its own
    clock.set(dt.datetime(2026, 11, 21, 0, 0, 1, tzinfo=MEXICO))  # 06:00 UTC
    pay(demo, customer, amount=500_001, channel="phone")
    assert demo.verify().ok


def test_an_account_may_carry_its_own_limit(demo):
    from banking_core.models import Account

    customer = ana(demo)
    with demo.unit_of_work() as uow:
        uow.session.get(Account, account_id(demo, customer, "5432")).limit_phone_centavos = 1000
        uow.commit()
    with pytest.raises(errors.OverDailyLimit):
        pay(demo, customer, last4="5432", amount=1001)
    pay(demo, customer, last4="5432", amount=1000)


def test_paying_from_someone_elses_account_is_refused(demo):
    ana_principal, carlos_principal = ana(demo), carlos(demo)
    carlos_account = account_id(demo, carlos_principal, "0002")
    with pytest.raises(errors.AccountNotOwned):
        demo.post_payment(ana_principal, channel="web", account_id=carlos_account,
                          service_key="1411", references=["9876543217"],
                          amount_centavos=100, idempotency_key="forged-account-1")
    # A forged principal that claims the account still fails the ownership check.
    forged = type(ana_principal)(customer_id=ana_principal.customer_id, customer_name="x",
                                 method="access_key", account_ids=frozenset({carlos_account}))
    with pytest.raises(errors.AccountNotOwned):
        demo.post_payment(forged, channel="web", account_id=carlos_account,
                          service_key="1411", references=["9876543217"],
                          amount_centavos=100, idempotency_key="forged-account-2")
    assert balance(demo, carlos_principal, "0002") == 15000


def test_a_card_session_cannot_pay_from_the_customers_other_accounts(demo):
    card = demo.authenticate(method="card", identifier="4152310000000001", nip="2468")
    ahorro = account_id(demo, ana(demo), "5432")
    with pytest.raises(errors.AccountNotOwned):
        demo.post_payment(card, channel="phone", account_id=ahorro, service_key="1411",
                          references=["9876543217"], amount_centavos=100,
                          idempotency_key="card-scope-1")


@pytest.mark.parametrize("service_key, references, amount, error, code", [
    ("9999", ["1"], 100, errors.UnknownService, "unknown_service"),
    ("1411", ["9876543210"], 100, errors.InvalidReference, "invalid_reference"),
    ("25", ["12345678"], 100, errors.InvalidReference, "invalid_reference"),
    ("5005", ["12345678"], 100, errors.InvalidReference, "invalid_reference"),
    ("1411", ["9876543217"], 99, errors.AmountOutOfRange, "amount_out_of_range"),
    ("1411", ["9876543217"], 0, errors.InvalidAmount, "invalid_amount"),
])
def test_business_rule_failures_post_nothing(demo, service_key, references, amount, error, code):
    customer = ana(demo)
    with pytest.raises(error) as caught:
        pay(demo, customer, service_key=service_key, references=references, amount=amount)
    assert caught.value.code == code
    assert balance(demo, customer, "5671") == 2_500_000
    with demo.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Payment)) == 0
        assert uow.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_an_inactive_service_refuses_payments(demo):
    from banking_core.models import Biller

    with demo.unit_of_work() as uow:
        uow.session.scalars(select(Biller).where(Biller.service_key == "25")).one().active = False
        uow.commit()
    with pytest.raises(errors.ServiceInactive):
        demo.find_service("25")
    with pytest.raises(errors.ServiceInactive):
        pay(demo, ana(demo), service_key="25", references=["123456789"])
    assert demo.find_service("25", include_inactive=True).name == "Colegiatura universitaria"


def test_water_takes_two_references_and_the_alphanumeric_service_its_letters(demo):
    customer = ana(demo)
    water = pay(demo, customer, service_key="5005", references=["12345678", "1126"], amount=34950)
    assert water.references == ("12345678", "1126")
    predial = pay(demo, customer, service_key="2088", references=["abc-123-xyz"], amount=100,
                  channel="agent", agent_id=1)
    assert predial.references == ("ABC123XYZ",) and predial.agent_id == 1
    history = demo.list_payments(customer)
    assert [r.folio for r in history] == [predial.folio, water.folio]
    assert demo.get_receipt(customer, water.folio).amount_centavos == 34950
    with pytest.raises(errors.UnknownPayment):
        demo.get_receipt(carlos(demo), water.folio)


def test_a_card_log_in_sees_only_its_account_payments(demo):
    """Ana's debit card reaches her cheques account only: the history and the
    folios of what she paid from her savings are not its to see."""
    customer = ana(demo)
    from_cheques = pay(demo, customer, last4="5671")
    from_savings = pay(demo, customer, last4="5432", amount=1000)
    card = demo.authenticate(method="card", identifier="4152310000000001", nip="2468")

    assert [r.folio for r in demo.list_payments(card)] == [from_cheques.folio]
    assert demo.get_receipt(card, from_cheques.folio).account_last4 == "5671"
    with pytest.raises(errors.UnknownPayment):
        demo.get_receipt(card, from_savings.folio)
    # The access key still sees both.
    assert {r.folio for r in demo.list_payments(customer)} == {from_cheques.folio,
                                                                from_savings.folio}
    assert demo.get_receipt(customer, from_savings.folio).account_last4 == "5432"


@pytest.mark.parametrize("request_changes, message", [
    (dict(channel="fax"), "unknown channel"),
    (dict(idempotency_key="short"), "idempotency key"),
    (dict(channel="agent"), "agent's id"),
    (dict(channel="agent", agent_id=999), "unknown or inactive agent"),
])
def test_malformed_requests_are_refused(demo, request_changes, message):
    customer = ana(demo)
    request = dict(channel="web", account_id=account_id(demo, customer, "5671"),
                   service_key="1411", references=["9876543217"], amount_centavos=100,
                   idempotency_key="a-good-key-123")
    request.update(request_changes)
    with pytest.raises(errors.InvalidRequest, match=message):
        demo.post_payment(customer, **request)


def test_ledger_rows_cannot_be_changed_or_deleted(demo, engine):
    pay(demo, ana(demo))
    for statement in ("UPDATE entries SET amount_centavos = 1",
                      "DELETE FROM entries",
                      "UPDATE payments SET amount_centavos = 1",
                      "DELETE FROM transfers"):
        with pytest.raises(Exception, match="immutable"):
            with engine.begin() as conn:
                conn.execute(text(statement))
    assert demo.verify().ok


def test_concurrent_twins_on_sqlite_post_once(demo, database_url):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    customer = ana(demo)
    barrier = threading.Barrier(8)

    def twin(_):
        barrier.wait()
        return pay(demo, customer, key="sqlite-twin-key-1")

    with ThreadPoolExecutor(8) as pool:
        receipts = list(pool.map(twin, range(8)))
    assert len({r.folio for r in receipts}) == 1
    assert sum(not r.replayed for r in receipts) == 1
    assert balance(demo, customer, "5671") == 2_500_000 - 65000


def _set_biller(bank, service_key, **values):
    from sqlalchemy import update as sql_update

    from banking_core.models import Biller
    with bank.unit_of_work() as uow:
        uow.session.execute(sql_update(Biller).where(Biller.service_key == service_key)
                            .values(**values))
        uow.commit()


def test_the_database_bumps_a_services_version_on_any_change(demo):
    from sqlalchemy import update as sql_update

    from banking_core.models import BillerReference
    before = demo.find_service("1411", include_inactive=True).version
    _set_biller(demo, "1411", name="Runtime WiFi")
    renamed = demo.find_service("1411", include_inactive=True)
    assert renamed.version == before + 1 and renamed.name == "Runtime WiFi"
    with demo.unit_of_work() as uow:
        uow.session.execute(sql_update(BillerReference)
                            .where(BillerReference.biller_id == renamed.id)
                            .values(check_digit="none"))
        uow.commit()
    assert demo.find_service("1411").version == before + 2


def test_a_service_switched_off_after_being_cached_refuses_payments(demo):
    customer = ana(demo)
    pay(demo, customer, service_key="25", references=["123456789"])  # now cached
    assert demo.services.get("25").active
    _set_biller(demo, "25", active=False)
    with pytest.raises(errors.ServiceInactive):
        pay(demo, customer, service_key="25", references=["123456789"])
    assert not demo.services.get("25").active  # the cache learnt it
    _set_biller(demo, "25", active=True)
    pay(demo, customer, service_key="25", references=["123456789"])  # and learns it back


def test_a_rule_changed_after_caching_is_applied_at_once(demo):
    from sqlalchemy import update as sql_update

    from banking_core.models import BillerReference
    customer = ana(demo)
    pay(demo, customer)  # caches 1411 with its Luhn rule
    with demo.unit_of_work() as uow:
        uow.session.execute(sql_update(BillerReference)
                            .where(BillerReference.biller_id == demo.services.get("1411").id)
                            .values(check_digit="none"))
        uow.commit()
    # 9876543210 fails Luhn; valid under the new rule, it must be accepted now.
    receipt = pay(demo, customer, references=["9876543210"])
    assert receipt.references == ("9876543210",)
    _set_biller(demo, "1411", amount_max_centavos=1000)
    with pytest.raises(errors.AmountOutOfRange):
        pay(demo, customer, amount=1001)
    assert demo.verify().ok


def test_a_folio_collision_is_retried_with_a_new_folio(demo, monkeypatch):
    from banking_core import payments as payments_module

    customer = ana(demo)
    first = pay(demo, customer)
    drawn = iter([first.folio, "1234567897"])  # the first draw collides
    monkeypatch.setattr(payments_module, "new_folio", lambda: next(drawn))
    second = pay(demo, customer)
    assert second.folio == "1234567897" and not second.replayed
    assert len({r.folio for r in demo.list_payments(customer)}) == 2
    assert demo.verify().ok
