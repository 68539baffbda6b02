"""`ivr bank run-due`, `ivr bank domiciliations`, `ivr bank bills …` and the
worker's domiciliations round, run as operators run them, on the real app."""
import datetime as dt
import email

import pytest

from banking_core.domiciliations import DomiciliationRequest
from linea_directa.worker import Worker, jobs_for
from tests.integration.helpers import account_id, ana, carlos, without_demo_domiciliations


@pytest.fixture(params=["sqlite"])
def database_url(request, sqlite_url):
    return sqlite_url


@pytest.fixture
def bank(app, runner):
    assert runner.invoke(args=["bank", "seed-demo"]).exit_code == 0
    return without_demo_domiciliations(app.extensions["bank"])


def today(bank):
    return bank.clock().astimezone(bank.policy.timezone).date()


def domicile_today(bank, principal, *, last4, amount=34900, mode="fixed", ceiling=None):
    """Due today (the app's clock is the real one)."""
    return bank.create_domiciliation(principal, DomiciliationRequest(
        service_key="1411", references=("9876543217",),
        account_id=account_id(bank, principal, last4), amount_mode=mode,
        amount_centavos=amount if mode == "fixed" else None, ceiling_centavos=ceiling,
        day_of_month=today(bank).day, start_date=today(bank)))


def test_run_due_posts_once_and_says_so(bank, runner):
    dom = domicile_today(bank, ana(bank), last4="5671")
    first = runner.invoke(args=["bank", "run-due"])
    assert first.exit_code == 0, first.output
    assert f"domiciliation {dom.id:>5}  {today(bank):%Y-%m-%d}       $349.00  posted   folio " \
        in first.output
    assert first.output.rstrip().endswith(
        "1 scheduled, 1 posted, 0 retried, 0 failed, 0 skipped, 0 errors")
    again = runner.invoke(args=["bank", "run-due"])
    assert again.output.strip() == "0 scheduled, 0 posted, 0 retried, 0 failed, 0 skipped, 0 errors"
    payments = runner.invoke(args=["bank", "payments"]).output
    assert "domiciliacion" in payments and "$349.00" in payments
    assert runner.invoke(args=["bank", "verify"]).exit_code == 0


def test_run_due_as_of_a_later_moment_charges_that_months_date(bank, runner):
    domicile_today(bank, ana(bank), last4="5671")
    runner.invoke(args=["bank", "run-due"])
    later = today(bank) + dt.timedelta(days=40)
    result = runner.invoke(args=["bank", "run-due", "--now", f"{later.isoformat()}T23:00"])
    assert "1 scheduled, 1 posted" in result.output
    listed = runner.invoke(args=["bank", "domiciliations"]).output.splitlines()
    assert listed[1].split()[:2] == ["1", "active"] and " paid " in listed[1]


def test_run_due_refuses_a_moment_it_cannot_read(bank, runner):
    result = runner.invoke(args=["bank", "run-due", "--now", "el lunes"])
    assert result.exit_code == 2 and "not an ISO date-time" in result.output


def test_a_failed_charge_is_listed_with_its_reason(bank, runner):
    domicile_today(bank, carlos(bank), last4="0002")  # $150.00 for $349.00
    result = runner.invoke(args=["bank", "run-due"])
    assert "retry    (insufficient_funds)" in result.output
    listed = runner.invoke(args=["bank", "domiciliations"]).output
    assert "due (insufficient_funds)" in listed


def test_bills_are_loaded_from_csv_and_listed(bank, runner, tmp_path):
    period = f"{today(bank):%Y-%m}"
    good = tmp_path / "facturas.csv"
    good.write_text("service_key,reference1,period,due_date,amount\n"
                    f"1411,9876543217,{period},{today(bank).isoformat()},649.00\n",
                    encoding="utf-8")
    result = runner.invoke(args=["bank", "bills", "load", str(good)])
    assert result.exit_code == 0 and "bills: 1 loaded, 0 replaced" in result.output
    listed = runner.invoke(args=["bank", "bills", "list"]).output
    assert "9876543217" in listed and period in listed and "$649.00  open" in listed
    bad = tmp_path / "malas.csv"
    bad.write_text("service_key,reference1,period,due_date,amount\n"
                   f"1411,9876543217,{period},mañana,649.00\n", encoding="utf-8")
    refused = runner.invoke(args=["bank", "bills", "load", str(bad)])
    assert refused.exit_code == 1 and "line 2: due_date 'mañana'" in refused.output

    domicile_today(bank, ana(bank), last4="5671", mode="billed", amount=None, ceiling=100000)
    assert "$649.00  posted" in runner.invoke(args=["bank", "run-due"]).output
    assert "$649.00  paid" in runner.invoke(args=["bank", "bills", "list"]).output


def test_the_workers_round_charges_and_the_next_one_e_mails_it(bank, app):
    domicile_today(bank, ana(bank), last4="5671")
    worker = Worker(jobs_for(app, interval=1, sweep_every=0, sweep_idle=900, due_every=60))
    worker.run_once()  # the outbox first (nothing yet), then the domiciliations
    worker.jobs[0].due = 0
    worker.run_once()
    outbox = app.extensions["settings"].outbox_dir
    [sent] = outbox.glob("*.eml")
    message = email.message_from_bytes(sent.read_bytes())
    assert message["To"] == "ana@example.com"
    body = message.get_payload(decode=True).decode("utf-8")
    assert "Le confirmamos el cargo de su pago domiciliado." in body and "$349.00" in body
