"""A biller's daily collection file (banking_core/collections.py): the day's
payments in the bank's time, totals that reconcile with the ledger and with
`ivr bank verify`, on SQLite and PostgreSQL."""
import csv
import datetime as dt
import io

from sqlalchemy import select

from banking_core import collections
from banking_core.ledger import post_transfer
from banking_core.models import Account, Biller
from tests.integration.helpers import ana, carlos, pay

UTC = dt.timezone.utc
DAY = dt.date(2026, 11, 19)  # America/Mexico_City is UTC-6 that day: midnight is 06:00Z


def rows_and_summary(text):
    lines = list(csv.reader(io.StringIO(text)))
    blank = lines.index([])
    return lines[0], lines[1:blank], dict(lines[blank + 1:])


def test_the_file_lists_the_local_days_payments_in_order_with_totals_that_match_the_ledger(
        demo, clock):
    clock.set(dt.datetime(2026, 11, 19, 5, 59, 59, tzinfo=UTC))   # 18th, 23:59:59 local
    before = pay(demo, ana(demo), amount=11111)
    clock.set(dt.datetime(2026, 11, 19, 6, 0, 0, tzinfo=UTC))     # 19th, 00:00:00 local
    first = pay(demo, ana(demo), amount=65050, channel="web")
    clock.set(dt.datetime(2026, 11, 19, 18, 30, 5, tzinfo=UTC))
    pay(demo, ana(demo), service_key="25", references=["123456789"], amount=99999)
    second = pay(demo, carlos(demo), last4="0002", amount=10001,
                 key="checkout:1411:PED-77")
    clock.set(dt.datetime(2026, 11, 20, 5, 59, 59, 999999, tzinfo=UTC))  # 19th, last instant
    last = pay(demo, ana(demo), amount=100)
    clock.set(dt.datetime(2026, 11, 20, 6, 0, 0, tzinfo=UTC))
    after = pay(demo, ana(demo), amount=22222)

    report = collections.collection_file(demo, "1411", DAY)
    assert [p.folio for p in report.payments] == [first.folio, second.folio, last.folio]
    assert (report.count, report.total_centavos, report.ledger_centavos) == (3, 75151, 75151)
    assert report.reconciled

    header, rows, summary = rows_and_summary(collections.to_csv(report))
    assert header == list(collections.COLUMNS)
    assert rows[0] == [first.folio, "2026-11-19 00:00:00", "web", "9876543217", "", "",
                       "650.50", "65050", ""]
    assert rows[1] == [second.folio, "2026-11-19 12:30:05", "phone", "9876543217", "", "",
                       "100.01", "10001", "PED-77"]
    assert rows[2][1] == "2026-11-19 23:59:59" and rows[2][6:8] == ["1.00", "100"]
    assert summary == {"service_key": "1411", "service_name": "Runtime WiFi Internet residencial",
                       "date": "2026-11-19", "time_zone": "America/Mexico_City",
                       "count": "3", "total": "751.51", "total_centavos": "75151"}
    assert sum(int(r[7]) for r in rows) == int(summary["total_centavos"])
    assert demo.verify().ok

    # The days around hold the payments this one does not.
    around = [collections.collection_file(demo, "1411", DAY + dt.timedelta(days=d))
              for d in (-1, 1)]
    assert [[p.folio for p in r.payments] for r in around] == [[before.folio], [after.folio]]
    assert all(r.reconciled for r in around)


def test_every_day_of_every_biller_adds_up_to_the_collection_accounts_balance(demo, clock):
    clock.set(dt.datetime(2026, 11, 18, 15, 0, tzinfo=UTC))
    for n in range(3):
        pay(demo, ana(demo), amount=1000 + n)
        pay(demo, ana(demo), service_key="25", references=["123456789"], amount=5000 + n)
        clock.advance(hours=9)
    assert demo.verify().ok
    with demo.unit_of_work() as uow:
        billers = uow.session.execute(select(Biller.service_key, Biller.collection_account_id)
                                      ).all()
    from banking_core.ledger import account_balance
    for service_key, account_id in billers:
        days = [collections.collection_file(demo, service_key, DAY + dt.timedelta(days=d))
                for d in range(-2, 3)]
        assert all(day.reconciled for day in days)
        with demo.unit_of_work() as uow:
            assert sum(d.total_centavos for d in days) == account_balance(uow.session, account_id)


def test_a_credit_to_the_collection_account_no_payment_explains_breaks_the_reconciliation(
        demo, engine, clock):
    clock.set(dt.datetime(2026, 11, 19, 15, 0, tzinfo=UTC))
    pay(demo, ana(demo), amount=5000)
    with demo.unit_of_work() as uow:
        biller = uow.session.scalar(select(Biller).where(Biller.service_key == "1411"))
        capital = uow.session.scalar(select(Account.id).where(Account.kind == "capital"))
    with engine.begin() as connection:
        post_transfer(connection, kind="payment", memo="sin pago", now=clock(),
                      legs=[(capital, -700), (biller.collection_account_id, 700)])
    report = collections.collection_file(demo, "1411", DAY)
    assert (report.total_centavos, report.ledger_centavos, report.reconciled) == (
        5000, 5700, False)
    assert not demo.verify().ok  # the auditor sees it too


def test_the_command_writes_the_file_and_says_whether_it_reconciles(runner, app, tmp_path):
    assert runner.invoke(args=["bank", "seed-demo"]).exit_code == 0
    bank = app.extensions["bank"]
    receipt = pay(bank, ana(bank), amount=65050)
    today = receipt.local_posted_at.date().isoformat()
    out = tmp_path / "cobranza.csv"
    result = runner.invoke(args=["bank", "collections", "--biller", "1411", "--date", today,
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert f"1411 {today}: 1 payment(s), $650.50; ledger $650.50: matches" in result.output
    _, rows, summary = rows_and_summary(out.read_text(encoding="utf-8"))
    assert [r[0] for r in rows] == [receipt.folio] and summary["total_centavos"] == "65050"
    printed = runner.invoke(args=["bank", "collections", "--biller", "1411"])
    assert printed.exit_code == 0 and receipt.folio in printed.output
    assert runner.invoke(args=["bank", "verify"]).exit_code == 0

    with bank.unit_of_work() as uow:
        biller = uow.session.scalar(select(Biller).where(Biller.service_key == "1411"))
        capital = uow.session.scalar(select(Account.id).where(Account.kind == "capital"))
        post_transfer(uow.session, kind="payment", memo="sin pago", now=bank.clock(),
                      legs=[(capital, -1), (biller.collection_account_id, 1)])
        uow.commit()
    broken = runner.invoke(args=["bank", "collections", "--biller", "1411", "--date", today])
    assert broken.exit_code == 1 and "ledger $650.51: DOES NOT MATCH" in broken.output
    unknown = runner.invoke(args=["bank", "collections", "--biller", "999", "--date", today])
    assert unknown.exit_code == 1 and "Error" in unknown.output
