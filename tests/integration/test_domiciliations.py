"""Domiciliations on real SQLite and PostgreSQL: creating them (every rule
checked, nothing written on a refusal), the scheduler charging each date
exactly once however often it runs, the retry policy, the ceiling of "the
amount billed", pausing and cancelling."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from banking_core import bills, domiciliation_runs, errors
from banking_core.domiciliations import DomiciliationRequest
from banking_core.ledger import post_transfer
from banking_core.models import (
    Account, Biller, Domiciliation, DomiciliationOccurrence, OutboxMessage, Payment,
)
from tests.integration.helpers import (
    account_id, ana, balance, carlos, without_demo_domiciliations,
)

MEXICO = ZoneInfo("America/Mexico_City")


def at(year, month, day, hour=9, minute=0):
    """A moment of the bank's local day, as the clock gives it (UTC)."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=MEXICO).astimezone(dt.timezone.utc)


@pytest.fixture
def bank(bank, clock):
    clock.set(at(2027, 1, 1, 8))
    return bank


@pytest.fixture
def demo(demo):
    return without_demo_domiciliations(demo)


def request(bank, principal, *, last4="5671", service_key="1411", references=("9876543217",),
            mode="fixed", amount=34900, ceiling=None, day=5, start=dt.date(2027, 1, 1),
            end=None):
    return DomiciliationRequest(
        service_key=service_key, references=tuple(references),
        account_id=account_id(bank, principal, last4), amount_mode=mode,
        amount_centavos=amount if mode == "fixed" else None,
        ceiling_centavos=ceiling if mode == "billed" else None, day_of_month=day,
        start_date=start, end_date=end)


def domicile(bank, principal, **kw):
    return bank.create_domiciliation(principal, request(bank, principal, **kw))


def count(bank, model, *where):
    with bank.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def dom_payments(bank):
    with bank.unit_of_work() as uow:
        return uow.session.execute(
            select(Payment.idempotency_key, Payment.amount_centavos, Payment.channel)
            .where(Payment.channel == "domiciliacion").order_by(Payment.id)).all()


def notices(bank):
    with bank.unit_of_work() as uow:
        return [m.payload for m in uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "domiciliation_unpaid")
            .order_by(OutboxMessage.id))]


def occurrence(bank, dom_id, due_date):
    with bank.unit_of_work() as uow:
        return uow.session.scalar(select(DomiciliationOccurrence).where(
            DomiciliationOccurrence.domiciliation_id == dom_id,
            DomiciliationOccurrence.due_date == due_date))


def run_days(bank, clock, first: dt.date, last: dt.date, *, times=2, hours=(0, 9)):
    """The scheduler run `times` in a row at each of `hours` of every day."""
    day = first
    while day <= last:
        for hour in hours:
            clock.set(at(day.year, day.month, day.day, hour, 1))
            for _ in range(times):
                bank.run_due()
        day += dt.timedelta(days=1)


def deposit(bank, principal, last4, centavos):
    account = account_id(bank, principal, last4)
    with bank.unit_of_work() as uow:
        capital = uow.session.scalar(select(Account.id).where(Account.number == "CAPITAL"))
        post_transfer(uow.session, kind="adjustment", memo="depósito de prueba",
                      legs=[(capital, -centavos), (account, centavos)],
                      now=bank.clock())
        uow.commit()


# ---- creating -----------------------------------------------------------------------
def test_a_domiciliation_starts_active_with_its_first_date(demo):
    view = domicile(demo, ana(demo), day=5)
    assert view.status == "active" and view.next_date == dt.date(2027, 1, 5)
    assert view.service_name == "Runtime WiFi Internet residencial"
    assert view.account_last4 == "5671" and view.references == ("9876543217",)
    assert [v.id for v in demo.list_domiciliations(ana(demo))] == [view.id]


def test_a_day_past_the_months_end_falls_on_its_last_day(demo, clock):
    clock.set(at(2027, 2, 1, 8))
    view = domicile(demo, ana(demo), day=31, start=dt.date(2027, 2, 1))
    assert view.next_date == dt.date(2027, 2, 28)


@pytest.mark.parametrize("changes,error", [
    (dict(service_key="9999"), errors.UnknownService),
    (dict(references=("9876543210",)), errors.InvalidReference),  # Luhn fails
    (dict(references=("98765",)), errors.InvalidReference),
    (dict(amount=0), errors.InvalidAmount),
    (dict(amount=5_000_001), errors.AmountOutOfRange),
    (dict(mode="billed", ceiling=50), errors.AmountOutOfRange),
    (dict(mode="billed", ceiling=None), errors.InvalidAmount),
    (dict(mode="sometimes"), errors.InvalidRequest),
    (dict(day=0), errors.InvalidSchedule),
    (dict(day=32), errors.InvalidSchedule),
    (dict(start=dt.date(2026, 12, 31)), errors.InvalidSchedule),
    (dict(end=dt.date(2026, 12, 31)), errors.InvalidSchedule),
    (dict(day=20, end=dt.date(2027, 1, 19)), errors.InvalidSchedule),
])
def test_a_bad_request_is_refused_and_nothing_is_written(demo, changes, error):
    with pytest.raises(error):
        domicile(demo, ana(demo), **changes)
    assert count(demo, Domiciliation) == 0


def test_an_inactive_service_cannot_be_domiciled(demo):
    with demo.unit_of_work() as uow:
        uow.session.execute(update(Biller).where(Biller.service_key == "25").values(active=False))
        uow.commit()
    with pytest.raises(errors.ServiceInactive):
        domicile(demo, ana(demo), service_key="25", references=("123456789",))


def test_another_customers_account_is_refused(demo):
    principal = ana(demo)
    asked = request(demo, principal)
    with pytest.raises(errors.AccountNotOwned):
        demo.create_domiciliation(carlos(demo), asked)
    assert count(demo, Domiciliation) == 0


def test_the_same_service_and_references_cannot_be_domiciled_twice(demo):
    first = domicile(demo, ana(demo))
    with pytest.raises(errors.DomiciliationExists):
        domicile(demo, ana(demo), last4="5432", day=9)
    demo.cancel_domiciliation(ana(demo), first.id)
    assert domicile(demo, ana(demo), last4="5432", day=9).status == "active"


def test_a_double_submit_returns_the_first_domiciliation(demo):
    principal = ana(demo)
    asked = request(demo, principal)
    first = demo.create_domiciliation(principal, asked, creation_key="web:form-0001")
    again = demo.create_domiciliation(principal, asked, creation_key="web:form-0001")
    assert again.id == first.id and count(demo, Domiciliation) == 1


def test_a_card_log_in_sees_and_changes_only_its_accounts_domiciliations(demo):
    on_cheques = domicile(demo, ana(demo), last4="5671")
    on_savings = domicile(demo, ana(demo), last4="5432", service_key="25",
                          references=("123456789",))
    card = demo.authenticate(method="card", identifier="4152310000000001", nip="2468")
    assert [v.id for v in demo.list_domiciliations(card)] == [on_cheques.id]
    with pytest.raises(errors.UnknownDomiciliation):
        demo.pause_domiciliation(card, on_savings.id)
    with pytest.raises(errors.UnknownDomiciliation):
        demo.cancel_domiciliation(carlos(demo), on_cheques.id)


# ---- charging: exactly once per date -----------------------------------------------
def test_two_months_of_runs_each_run_twice_charge_every_date_once(demo, clock):
    principal = ana(demo)
    fifth = domicile(demo, principal, day=5, amount=34900)
    last = domicile(demo, principal, day=31, service_key="25", references=("123456789",),
                    amount=250000, last4="0011")
    first = domicile(demo, carlos(demo), last4="0002", day=1, amount=5000,
                     start=dt.date(2027, 1, 1))
    run_days(demo, clock, dt.date(2027, 1, 1), dt.date(2027, 3, 1))

    keys = [key for key, _, _ in dom_payments(demo)]
    assert sorted(keys) == sorted([
        f"dom:{fifth.id}:2027-01-05", f"dom:{fifth.id}:2027-02-05",
        f"dom:{last.id}:2027-01-31", f"dom:{last.id}:2027-02-28",
        f"dom:{first.id}:2027-01-01", f"dom:{first.id}:2027-02-01",
        f"dom:{first.id}:2027-03-01"])
    assert balance(demo, principal, "5671") == 2_500_000 - 2 * 34900
    assert balance(demo, principal, "0011") == 800_000 - 2 * 250000
    assert count(demo, DomiciliationOccurrence) == 7
    assert count(demo, DomiciliationOccurrence, DomiciliationOccurrence.status != "paid") == 0
    assert demo.verify().ok
    # One confirmation e-mail per charge, saying it was domiciled.
    confirmations = count(demo, OutboxMessage, OutboxMessage.kind == "payment_confirmation")
    assert confirmations == 7


def test_a_run_reports_what_it_did(demo, clock):
    dom = domicile(demo, ana(demo), day=5)
    clock.set(at(2027, 1, 5, 0, 1))
    report = demo.run_due()
    assert report.counts() == {"scheduled": 1, "posted": 1, "retried": 0, "failed": 0,
                               "skipped": 0, "errors": 0}
    [outcome] = report.outcomes
    assert outcome.domiciliation_id == dom.id and outcome.folio and outcome.amount_centavos == 34900
    assert demo.run_due().counts()["posted"] == 0
    view = demo.list_domiciliations(ana(demo))[0]
    assert view.next_date == dt.date(2027, 2, 5) and view.last.folio == outcome.folio


def test_a_scheduler_away_for_months_charges_each_missed_date_once(demo, clock):
    dom = domicile(demo, ana(demo), day=5)
    clock.set(at(2027, 3, 10))
    assert demo.run_due().counts()["posted"] == 3
    assert demo.run_due().counts()["posted"] == 0
    assert [k for k, _, _ in dom_payments(demo)] == [
        f"dom:{dom.id}:2027-01-05", f"dom:{dom.id}:2027-02-05", f"dom:{dom.id}:2027-03-05"]


def test_a_domiciliation_ends_after_its_last_date(demo, clock):
    dom = domicile(demo, ana(demo), day=5, end=dt.date(2027, 2, 10))
    run_days(demo, clock, dt.date(2027, 1, 1), dt.date(2027, 4, 6), times=1, hours=(9,))
    assert len(dom_payments(demo)) == 2
    view = demo.list_domiciliations(ana(demo))[0]
    assert view.id == dom.id and view.status == "finished" and view.next_date is None


def test_a_lease_run_out_mid_posting_still_charges_once(demo, clock):
    """A run that stalls after claiming an occurrence: after the lease another
    run charges it; the stalled one, resuming, finds the payment by its key."""
    dom = domicile(demo, ana(demo), day=5)
    clock.set(at(2027, 1, 5))
    domiciliation_runs.schedule_due(demo, clock())
    [occ_id] = domiciliation_runs._due_occurrences(demo, clock(), 10)
    stalled = domiciliation_runs._claim(demo, occ_id, clock())
    assert demo.run_due().outcomes == []  # leased to the stalled run
    clock.advance(minutes=6)
    [posted] = demo.run_due().outcomes
    resumed = domiciliation_runs._attempt(demo, stalled, clock())
    assert resumed.result == "posted" and resumed.folio == posted.folio
    assert len(dom_payments(demo)) == 1 and demo.verify().ok
    assert occurrence(demo, dom.id, dt.date(2027, 1, 5)).status == "paid"


# ---- the retry policy -----------------------------------------------------------------
def test_insufficient_funds_are_retried_twice_then_the_customer_is_told(demo, clock):
    principal = carlos(demo)  # $150.00
    dom = domicile(demo, principal, last4="0002", day=5, amount=34900)
    results = []
    for day in (5, 6, 7, 8):
        clock.set(at(2027, 1, day, 10))
        results += [(day, o.result, o.code) for o in demo.run_due().outcomes]
    assert results == [(5, "retry", "insufficient_funds"), (6, "retry", "insufficient_funds"),
                       (7, "failed", "insufficient_funds")]
    occ = occurrence(demo, dom.id, dt.date(2027, 1, 5))
    assert occ.status == "failed" and occ.attempts == 3 and occ.payment_id is None
    [notice] = notices(demo)
    assert notice["reason"] == "insufficient_funds" and notice["attempts"] == 3
    assert notice["due_date"] == "05/01/2027" and notice["account_last4"] == "0002"
    assert dom_payments(demo) == [] and demo.verify().ok


def test_money_arriving_before_a_retry_is_charged_on_the_retry(demo, clock):
    principal = carlos(demo)
    dom = domicile(demo, principal, last4="0002", day=5, amount=34900)
    clock.set(at(2027, 1, 5, 10))
    assert [o.result for o in demo.run_due().outcomes] == ["retry"]
    deposit(demo, principal, "0002", 50000)
    clock.set(at(2027, 1, 6, 9))
    assert demo.run_due().outcomes == []  # a day after the first attempt, not before
    clock.set(at(2027, 1, 6, 10, 1))
    [posted] = demo.run_due().outcomes
    assert posted.result == "posted"
    assert dom_payments(demo) == [(f"dom:{dom.id}:2027-01-05", 34900, "domiciliacion")]
    assert notices(demo) == [] and balance(demo, principal, "0002") == 15000 + 50000 - 34900


def test_the_domiciliation_channel_has_its_own_daily_limit(demo, clock):
    demo.policy.daily_limits["domiciliacion"] = 30000
    domicile(demo, ana(demo), day=5, amount=34900)
    clock.set(at(2027, 1, 5))
    [outcome] = demo.run_due().outcomes
    assert (outcome.result, outcome.code) == ("retry", "over_daily_limit")


def test_a_domiciliation_charge_counts_in_its_channels_daily_total(demo, clock):
    principal = ana(demo)
    domicile(demo, principal, day=5, amount=34900)
    clock.set(at(2027, 1, 5))
    demo.run_due()
    with demo.unit_of_work() as uow:
        account = uow.session.get(Account, account_id(demo, principal, "5671"))
        assert (account.spent_domiciliacion_centavos, account.spent_web_centavos) == (34900, 0)
        assert account.spent_on == dt.date(2027, 1, 5)
    assert demo.verify().ok  # today's running totals agree with today's payments


def test_a_refusal_that_cannot_pass_by_itself_fails_at_once(demo, clock):
    dom = domicile(demo, ana(demo), day=5, amount=34900)
    with demo.unit_of_work() as uow:
        uow.session.execute(update(Biller).where(Biller.service_key == "1411")
                            .values(amount_max_centavos=30000))
        uow.commit()
    demo.services.evict("1411")
    clock.set(at(2027, 1, 5))
    [outcome] = demo.run_due().outcomes
    assert (outcome.result, outcome.code) == ("failed", "amount_out_of_range")
    assert occurrence(demo, dom.id, dt.date(2027, 1, 5)).attempts == 1
    assert [n["reason"] for n in notices(demo)] == ["amount_out_of_range"]


def test_a_service_switched_off_is_retried(demo, clock):
    domicile(demo, ana(demo), day=5)
    with demo.unit_of_work() as uow:
        uow.session.execute(update(Biller).where(Biller.service_key == "1411")
                            .values(active=False))
        uow.commit()
    clock.set(at(2027, 1, 5))
    [outcome] = demo.run_due().outcomes
    assert (outcome.result, outcome.code) == ("retry", "service_inactive")


# ---- "the amount billed", up to a ceiling ------------------------------------------------
def load_bill(bank, amount, *, period="2027-01", due="2027-01-21", reference="9876543217"):
    return bills.load(bank, [bills.BillLine(line=2, service_key="1411", references=(reference,),
                                            period=period, due_date=dt.date.fromisoformat(due),
                                            amount_centavos=amount)])


def test_the_bill_of_the_month_is_paid_up_to_the_ceiling(demo, clock):
    dom = domicile(demo, ana(demo), mode="billed", ceiling=100000, day=21)
    load_bill(demo, 64900)
    load_bill(demo, 70000, period="2027-02", due="2027-02-21")
    run_days(demo, clock, dt.date(2027, 1, 20), dt.date(2027, 2, 22), hours=(9,))
    assert [(k, a) for k, a, _ in dom_payments(demo)] == [
        (f"dom:{dom.id}:2027-01-21", 64900), (f"dom:{dom.id}:2027-02-21", 70000)]
    assert {b.status for b in bills.list_bills(demo)} == {"paid"}
    assert demo.verify().ok


def test_a_bill_over_the_ceiling_is_not_paid_and_the_customer_is_told(demo, clock):
    dom = domicile(demo, ana(demo), mode="billed", ceiling=50000, day=21)
    load_bill(demo, 64900)
    clock.set(at(2027, 1, 21))
    [outcome] = demo.run_due().outcomes
    assert (outcome.result, outcome.code) == ("skipped", "over_ceiling")
    clock.set(at(2027, 1, 22, 10))
    assert demo.run_due().outcomes == []  # not retried: the bill will not shrink by itself
    assert dom_payments(demo) == []
    [notice] = notices(demo)
    assert (notice["reason"], notice["amount"], notice["ceiling"]) == \
        ("over_ceiling", "$649.00", "$500.00")
    assert occurrence(demo, dom.id, dt.date(2027, 1, 21)).status == "skipped"


def test_no_bill_is_retried_and_a_bill_arriving_late_is_paid(demo, clock):
    domicile(demo, ana(demo), mode="billed", ceiling=100000, day=21)
    clock.set(at(2027, 1, 21, 9))
    assert [(o.result, o.code) for o in demo.run_due().outcomes] == [("retry", "no_bill")]
    load_bill(demo, 34900)
    clock.set(at(2027, 1, 22, 9, 5))
    assert [o.result for o in demo.run_due().outcomes] == ["posted"]


def test_no_bill_after_every_retry_tells_the_customer(demo, clock):
    domicile(demo, ana(demo), mode="billed", ceiling=100000, day=21)
    run_days(demo, clock, dt.date(2027, 1, 21), dt.date(2027, 1, 25), hours=(10,))
    assert [n["reason"] for n in notices(demo)] == ["no_bill"] and dom_payments(demo) == []


def test_a_bill_another_domiciliation_paid_is_not_paid_again(demo, clock):
    first = domicile(demo, ana(demo), mode="billed", ceiling=100000, day=5)
    load_bill(demo, 34900)
    clock.set(at(2027, 1, 5))
    demo.run_due()
    demo.cancel_domiciliation(ana(demo), first.id)
    second = domicile(demo, ana(demo), mode="billed", ceiling=100000, day=21,
                      start=dt.date(2027, 1, 5))
    clock.set(at(2027, 1, 21))
    [outcome] = demo.run_due().outcomes
    assert (outcome.domiciliation_id, outcome.result, outcome.code) == \
        (second.id, "skipped", "bill_paid")
    assert len(dom_payments(demo)) == 1 and notices(demo) == []


def test_a_bills_file_is_checked_line_by_line_and_loaded_whole(demo):
    text = ("service_key,reference1,period,due_date,amount\n"
            "1411,9876543217,2027-01,2027-01-21,349.00\n"
            "1411,9876543210,2027-01,2027-01-21,349.00\n")
    lines = bills.parse_csv(text, source="enero.csv")
    with pytest.raises(bills.BillFileError, match="enero.csv, line 3: .*check digit"):
        bills.load(demo, lines, source="enero.csv")
    assert bills.list_bills(demo) == []
    with pytest.raises(bills.BillFileError, match="line 2: period '2027-13'"):
        bills.parse_csv(text.replace("2027-01,", "2027-13,"), source="enero.csv")
    assert bills.load(demo, lines[:1]) == {"created": 1, "replaced": 0}
    corrected = bills.parse_csv(text.replace("349.00", "350.00"))[:1]
    assert bills.load(demo, corrected) == {"created": 0, "replaced": 1}
    assert [b.amount_centavos for b in bills.list_bills(demo)] == [35000]


# ---- pausing and cancelling ----------------------------------------------------------------
def test_a_paused_domiciliation_is_not_charged_and_resumes_at_its_next_date(demo, clock):
    principal = ana(demo)
    dom = domicile(demo, principal, day=5)
    assert demo.pause_domiciliation(principal, dom.id).status == "paused"
    run_days(demo, clock, dt.date(2027, 1, 1), dt.date(2027, 1, 10), hours=(9,))
    assert dom_payments(demo) == []
    resumed = demo.resume_domiciliation(principal, dom.id)
    assert resumed.status == "active" and resumed.next_date == dt.date(2027, 2, 5)
    run_days(demo, clock, dt.date(2027, 1, 11), dt.date(2027, 2, 6), times=1, hours=(9,))
    assert [k for k, _, _ in dom_payments(demo)] == [f"dom:{dom.id}:2027-02-05"]


def test_pausing_drops_a_charge_waiting_for_its_retry(demo, clock):
    principal = carlos(demo)
    dom = domicile(demo, principal, last4="0002", day=5, amount=34900)
    clock.set(at(2027, 1, 5))
    demo.run_due()
    demo.pause_domiciliation(principal, dom.id)
    deposit(demo, principal, "0002", 50000)
    clock.set(at(2027, 1, 6, 10))
    assert demo.run_due().outcomes == [] and dom_payments(demo) == []
    assert occurrence(demo, dom.id, dt.date(2027, 1, 5)).status == "cancelled"
    assert notices(demo) == []


def test_a_cancelled_domiciliation_stays_cancelled(demo, clock):
    principal = ana(demo)
    dom = domicile(demo, principal, day=5)
    assert demo.cancel_domiciliation(principal, dom.id).status == "cancelled"
    assert demo.cancel_domiciliation(principal, dom.id).status == "cancelled"  # a double click
    with pytest.raises(errors.DomiciliationClosed):
        demo.resume_domiciliation(principal, dom.id)
    with pytest.raises(errors.DomiciliationClosed):
        demo.pause_domiciliation(principal, dom.id)
    run_days(demo, clock, dt.date(2027, 1, 1), dt.date(2027, 1, 6), times=1, hours=(9,))
    assert dom_payments(demo) == []


# ---- the bank file ------------------------------------------------------------------------
def test_the_demo_bank_domiciles_anas_internet_for_the_amount_billed(bank):
    from banking_core import loader

    loader.seed_demo(bank)
    demo = bank
    [view] = demo.list_domiciliations(ana(demo))
    assert (view.service_key, view.references, view.account_last4) == \
        ("1411", ("9876543217",), "5671")
    assert (view.amount_mode, view.ceiling_centavos, view.day_of_month, view.status) == \
        ("billed", 100000, 21, "active")
    assert view.next_date == dt.date(2027, 1, 21)  # the first 21st from the day it was loaded
    assert view.created_channel == "loaded"


def test_a_bank_files_domiciliation_is_checked_like_a_customers(bank):
    from banking_core.loader import BankFileError, load_bank_file, parse_bank_file

    text = """
billers:
  - service_key: "1411"
    name: Runtime WiFi
    amount: {min: "1.00", max: "50000.00"}
    references: [{label: Cliente, length: 10, check_digit: luhn}]
customers:
  - name: Ana
    email: ana@example.com
    accounts: [{number: "0012345671", kind: cheques}]
    domiciliations:
      - {service_key: "1411", references: ["%s"], account: "%s", amount: "349.00",
         day: 21, start: "2026-01-01"}
"""
    with pytest.raises(BankFileError, match=r"domiciliations\[0\] '1411': .*check digit"):
        load_bank_file(bank, parse_bank_file(text % ("9876543210", "0012345671")))
    with pytest.raises(BankFileError, match="account 0099999999 is not one of this customer's"):
        load_bank_file(bank, parse_bank_file(text % ("9876543217", "0099999999")))
    with pytest.raises(BankFileError, match="give either amount"):
        parse_bank_file((text % ("9876543217", "0012345671")).replace(
            'amount: "349.00"', 'amount: "349.00", billed: {ceiling: "500.00"}'))
    assert count(bank, Domiciliation) == 0
    counts = load_bank_file(bank, parse_bank_file(text % ("9876543217", "0012345671")))
    assert counts["domiciliations"] == 1
