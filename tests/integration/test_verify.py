"""`verify` must notice every way the ledger can be broken."""
import datetime as dt

from sqlalchemy import insert, select, text, update

from banking_core.models import Account, Entry, OutboxMessage, Transfer
from tests.integration.helpers import ana, pay


def test_a_healthy_bank_verifies(demo):
    pay(demo, ana(demo))
    report = demo.verify()
    assert report.ok and report.payments == 1 and "ledger OK" in report.summary()


def test_a_cached_balance_that_disagrees_with_the_entries_is_reported(demo):
    with demo.unit_of_work() as uow:
        uow.session.execute(update(Account).where(Account.number == "0098765432")
                            .values(balance_centavos=1))
        uow.commit()
    report = demo.verify()
    assert not report.ok
    assert any("0098765432: balance 1 but its entries sum to 300000" in p for p in report.problems)


def test_an_unbalanced_transfer_is_reported(demo):
    now = dt.datetime.now(dt.timezone.utc)
    with demo.unit_of_work() as uow:
        s = uow.session
        account = s.scalar(select(Account.id).where(Account.number == "COBRO-25"))
        transfer = s.execute(insert(Transfer).values(kind="adjustment", memo="bad",
                                                     created_at=now).returning(Transfer.id)
                             ).scalar_one()
        s.execute(insert(Entry).values(transfer_id=transfer, account_id=account,
                                       amount_centavos=500, created_at=now))
        uow.commit()
    problems = demo.verify().problems
    assert any(f"transfer {transfer} has 1 entries summing to 500" in p for p in problems)
    assert any("whole bank sum to 500" in p for p in problems)


def test_a_payment_whose_confirmation_was_not_queued_is_reported(demo, engine):
    receipt = pay(demo, ana(demo))
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM outbox"))
    problems = demo.verify().problems
    assert problems == [f"payment {receipt.folio}: no confirmation was queued"]


def test_an_overdrawn_internal_collection_account_is_reported(demo):
    now = dt.datetime.now(dt.timezone.utc)
    with demo.unit_of_work() as uow:
        s = uow.session
        ids = dict(s.execute(select(Account.number, Account.id)).all())
        transfer = s.execute(insert(Transfer).values(kind="adjustment", created_at=now)
                             .returning(Transfer.id)).scalar_one()
        s.execute(insert(Entry), [
            dict(transfer_id=transfer, account_id=ids["COBRO-1411"], amount_centavos=-7,
                 created_at=now),
            dict(transfer_id=transfer, account_id=ids["CAPITAL"], amount_centavos=7,
                 created_at=now),
        ])
        uow.commit()
    assert demo.verify().problems == ["collection account COBRO-1411 is negative: -7"]


def test_outbox_rows_stay_mutable(demo):
    pay(demo, ana(demo))
    with demo.unit_of_work() as uow:
        uow.session.execute(update(OutboxMessage).values(attempts=1))
        uow.commit()


def test_a_running_daily_total_that_disagrees_with_the_payments_is_reported(demo):
    pay(demo, ana(demo), amount=65000)
    assert demo.verify().ok
    with demo.unit_of_work() as uow:
        uow.session.execute(update(Account).where(Account.number == "0012345671")
                            .values(spent_phone_centavos=1))
        uow.commit()
    assert demo.verify().problems == [
        "account 0012345671: today's phone total is 1 but its payments today sum to 65000"]
