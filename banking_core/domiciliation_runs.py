"""The scheduler's run: every due domiciliation charged once per date.

`run_due(bank, now)` is safe to run every minute, from cron or the worker, and
from several places at once:

1. Scheduling. Each active domiciliation whose next date has come gets its
   occurrence row, unique per (domiciliation, date): two runs that race insert
   it once (the second insert does nothing), and moving the next date on is
   conditional on the date the run read, so exactly one run moves it.
2. Charging. Each occurrence due for an attempt is claimed with a conditional
   UPDATE (one run wins; the claim is a lease: a run that dies mid-attempt
   leaves it to the next run after `LEASE`). The payment goes through the
   same posting as any other, channel "domiciliacion" (limits and rules
   applied), under the idempotency key `dom:<id>:<date>`; marking the
   occurrence paid (and its bill) commits in the payment's own transaction.
   So a date is charged once even if a lease runs out while its run is still
   posting: the second attempt finds the payment by its key.

A refusal that may pass by itself (insufficient funds, the daily limit, the
service not taking payments, no bill yet) is retried `RETRY_DELAY` later, up
to `MAX_ATTEMPTS` attempts in all; then, or at once for a refusal that cannot
pass by itself, the occurrence fails and the customer is e-mailed, through the
outbox, in the same transaction. docs/domiciliacion.md has the policy.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from banking_core import bills, errors, payments, schedule
from banking_core.models import (
    Account, Bill, Biller, Customer, Domiciliation, DomiciliationOccurrence, OutboxMessage,
    Payment,
)
from banking_core.money import format_mxn
from banking_core.views import Principal

MAX_ATTEMPTS = 3  # the due date, then one and two days later
RETRY_DELAY = dt.timedelta(days=1)
LEASE = dt.timedelta(minutes=5)
BATCH = 200
CHANNEL = "domiciliacion"
NOTICE_KIND = "domiciliation_unpaid"

# Refusals that may pass by themselves: tried again after RETRY_DELAY.
RETRYABLE = frozenset({"insufficient_funds", "over_daily_limit", "service_inactive",
                       "no_bill"})
# Ends the occurrence quietly: nothing is owed (another charge paid that bill).
QUIET = frozenset({"bill_paid"})


@dataclasses.dataclass(frozen=True)
class Outcome:
    domiciliation_id: int
    due_date: dt.date
    result: str  # posted | retry | failed | skipped | cancelled
    folio: str | None = None
    code: str | None = None
    amount_centavos: int | None = None


@dataclasses.dataclass
class RunReport:
    scheduled: int = 0
    outcomes: list[Outcome] = dataclasses.field(default_factory=list)
    errors: int = 0  # attempts that raised something unexpected (logged; retried later)

    def count(self, result: str) -> int:
        return sum(1 for o in self.outcomes if o.result == result)

    def counts(self) -> dict[str, int]:
        return {"scheduled": self.scheduled, "posted": self.count("posted"),
                "retried": self.count("retry"), "failed": self.count("failed"),
                "skipped": self.count("skipped"), "errors": self.errors}


class _Refused(Exception):
    """An attempt that cannot post: `code` says why."""

    def __init__(self, code: str, amount_centavos: int | None = None):
        super().__init__(code)
        self.code, self.amount_centavos = code, amount_centavos


def idempotency_key(domiciliation_id: int, due_date: dt.date) -> str:
    return f"dom:{domiciliation_id}:{due_date.isoformat()}"


def run_due(bank, now: dt.datetime | None = None, *, limit: int = BATCH) -> RunReport:
    now = now or bank.clock()
    report = RunReport(scheduled=schedule_due(bank, now))
    for occurrence_id in _due_occurrences(bank, now, limit):
        claimed = _claim(bank, occurrence_id, now)
        if claimed is None:
            continue  # another run has it
        try:
            report.outcomes.append(_attempt(bank, claimed, now))
        except Exception as exc:  # noqa: BLE001 - one charge's fault must not stop the others
            report.errors += 1
            bank.log.error("domiciliation_attempt_failed", occurrence=occurrence_id,
                           error=type(exc).__name__)
    return report


# ---- 1. scheduling ------------------------------------------------------------
def schedule_due(bank, now: dt.datetime) -> int:
    """Turn every next date that has come into an occurrence; a domiciliation
    that missed several months (no run for that long) gets each of them."""
    today = now.astimezone(bank.policy.timezone).date()
    created = 0
    while True:
        with bank.unit_of_work() as uow:
            due = uow.session.execute(
                select(Domiciliation.id, Domiciliation.next_date, Domiciliation.day_of_month,
                       Domiciliation.end_date)
                .where(Domiciliation.status == "active", Domiciliation.next_date <= today)
                .order_by(Domiciliation.next_date, Domiciliation.id).limit(BATCH)).all()
        if not due:
            return created
        for row in due:
            created += _schedule_one(bank, row, now)


def _schedule_one(bank, row, now) -> int:
    following = schedule.following(row.day_of_month, row.next_date)
    ended = row.end_date is not None and following > row.end_date
    with bank.unit_of_work() as uow:
        session = uow.session
        inserted = len(session.execute(_insert_ignoring_twin(session).values(
            domiciliation_id=row.id, due_date=row.next_date, status="due", attempts=0,
            next_attempt_at=now, created_at=now)
            .returning(DomiciliationOccurrence.id)).all())
        # Conditional: of two runs that read the same date, one moves it on.
        session.execute(update(Domiciliation).where(
            Domiciliation.id == row.id, Domiciliation.next_date == row.next_date,
            Domiciliation.status == "active")
            .values(next_date=None if ended else following,
                    status="finished" if ended else "active", updated_at=now))
        uow.commit()
    return inserted


def _insert_ignoring_twin(session):
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[session.bind.dialect.name]
    return dialect.insert(DomiciliationOccurrence).on_conflict_do_nothing(
        index_elements=["domiciliation_id", "due_date"])


# ---- 2. charging ----------------------------------------------------------------
def _due_occurrences(bank, now, limit) -> list[int]:
    with bank.unit_of_work() as uow:
        return list(uow.session.scalars(
            select(DomiciliationOccurrence.id)
            .where(DomiciliationOccurrence.status == "due",
                   DomiciliationOccurrence.next_attempt_at <= now)
            .order_by(DomiciliationOccurrence.due_date, DomiciliationOccurrence.id)
            .limit(limit)))


@dataclasses.dataclass(frozen=True)
class _Claimed:
    id: int
    domiciliation_id: int
    due_date: dt.date
    attempts: int  # this attempt's number


def _claim(bank, occurrence_id: int, now) -> _Claimed | None:
    with bank.unit_of_work() as uow:
        done = uow.session.execute(
            update(DomiciliationOccurrence)
            .where(DomiciliationOccurrence.id == occurrence_id,
                   DomiciliationOccurrence.status == "due",
                   DomiciliationOccurrence.next_attempt_at <= now)
            .values(attempts=DomiciliationOccurrence.attempts + 1,
                    next_attempt_at=now + LEASE)).rowcount
        if done != 1:
            return None
        row = uow.session.get(DomiciliationOccurrence, occurrence_id)
        claimed = _Claimed(row.id, row.domiciliation_id, row.due_date, row.attempts)
        uow.commit()
        return claimed


def _attempt(bank, occ: _Claimed, now) -> Outcome:
    with bank.unit_of_work() as uow:
        dom = uow.session.get(Domiciliation, occ.domiciliation_id)
        customer = uow.session.get(Customer, dom.customer_id)
        service_key = uow.session.scalar(select(Biller.service_key)
                                         .where(Biller.id == dom.biller_id))
        references = tuple(dom.references)
        dom_status, account_id = dom.status, dom.account_id
        mode, fixed, ceiling = dom.amount_mode, dom.amount_centavos, dom.ceiling_centavos
        biller_id = dom.biller_id
    if dom_status in ("paused", "cancelled"):  # since this date was scheduled
        # (finished only says no date comes after this one)
        _close(bank, occ, "cancelled", dom_status, now, amount=None)
        return Outcome(occ.domiciliation_id, occ.due_date, "cancelled", code=dom_status)

    amount, bill_id = fixed, None
    try:
        if mode == "billed":
            amount, bill_id = _billed_amount(bank, biller_id, references, occ.due_date, ceiling)
        receipt = payments.post_payment(
            bank, Principal(customer_id=customer.id, customer_name=customer.name,
                            method="domiciliation", account_ids=frozenset({account_id})),
            channel=CHANNEL, account_id=account_id, service_key=service_key,
            references=references, amount_centavos=amount,
            idempotency_key=idempotency_key(occ.domiciliation_id, occ.due_date),
            with_payment=lambda connection, receipt: _mark_paid(
                connection, occ.id, bill_id, receipt, now))
    except _Refused as exc:
        return _refused(bank, occ, exc.code, exc.amount_centavos or amount, now)
    except errors.DomainError as exc:
        return _refused(bank, occ, exc.code, amount, now)
    if receipt.replayed:  # a twin attempt posted it, and marked it paid with it
        _mark_replayed(bank, occ, receipt, now)
    bank.log.info("domiciliation_charged", domiciliation=occ.domiciliation_id,
                  due_date=occ.due_date.isoformat(), folio=receipt.folio)
    return Outcome(occ.domiciliation_id, occ.due_date, "posted", folio=receipt.folio,
                   amount_centavos=receipt.amount_centavos)


def _billed_amount(bank, biller_id, references, due_date, ceiling) -> tuple[int, int]:
    """The open bill of the occurrence's month, if its amount is within the
    ceiling: (amount, bill id). Else why not."""
    with bank.unit_of_work() as uow:
        bill = uow.session.scalar(select(Bill).where(
            Bill.biller_id == biller_id, Bill.references_key == bills.references_key(references),
            Bill.period == schedule.period_of(due_date)))
        if bill is None:
            raise _Refused("no_bill")
        if bill.status == "paid":
            raise _Refused("bill_paid", bill.amount_centavos)
        if bill.amount_centavos > ceiling:
            raise _Refused("over_ceiling", bill.amount_centavos)
        return bill.amount_centavos, bill.id


def _mark_paid(connection, occurrence_id, bill_id, receipt, now) -> None:
    """In the payment's transaction: the occurrence is paid by it, and so is
    its bill (which nobody else paid meanwhile, or the payment rolls back)."""
    payment_id = connection.execute(
        select(Payment.id).where(Payment.folio == receipt.folio)).scalar_one()
    if bill_id is not None:
        taken = connection.execute(
            update(Bill).where(Bill.id == bill_id, Bill.status == "open")
            .values(status="paid", payment_id=payment_id, updated_at=now)).rowcount
        if taken != 1:  # paid meanwhile: this payment rolls back
            raise _Refused("bill_paid")
    connection.execute(
        update(DomiciliationOccurrence).where(DomiciliationOccurrence.id == occurrence_id)
        .values(status="paid", payment_id=payment_id, amount_centavos=receipt.amount_centavos,
                bill_id=bill_id, last_error=None, finished_at=now))


def _mark_replayed(bank, occ: _Claimed, receipt, now) -> None:
    """The twin that posted marked the occurrence in its payment's transaction;
    this only makes sure, should a customer's pause have slipped in between."""
    with bank.unit_of_work() as uow:
        payment_id = uow.session.scalar(select(Payment.id).where(Payment.folio == receipt.folio))
        uow.session.execute(
            update(DomiciliationOccurrence)
            .where(DomiciliationOccurrence.id == occ.id, DomiciliationOccurrence.status != "paid")
            .values(status="paid", payment_id=payment_id, amount_centavos=receipt.amount_centavos,
                    last_error=None, finished_at=now))
        uow.commit()


def _refused(bank, occ: _Claimed, code: str, amount, now) -> Outcome:
    if code in RETRYABLE and occ.attempts < MAX_ATTEMPTS:
        with bank.unit_of_work() as uow:
            uow.session.execute(
                update(DomiciliationOccurrence)
                .where(DomiciliationOccurrence.id == occ.id,
                       DomiciliationOccurrence.status == "due")
                .values(next_attempt_at=now + RETRY_DELAY, last_error=code,
                        amount_centavos=amount))
            uow.commit()
        return Outcome(occ.domiciliation_id, occ.due_date, "retry", code=code,
                       amount_centavos=amount)
    result = "failed" if code in RETRYABLE or code not in ("over_ceiling", *QUIET) \
        else "skipped"
    _close(bank, occ, result, code, now, amount=amount, notify=code not in QUIET)
    bank.log.warning("domiciliation_not_charged", domiciliation=occ.domiciliation_id,
                     due_date=occ.due_date.isoformat(), code=code, attempts=occ.attempts)
    return Outcome(occ.domiciliation_id, occ.due_date, result, code=code,
                   amount_centavos=amount)


def _close(bank, occ: _Claimed, status, code, now, *, amount, notify=False) -> None:
    """The occurrence's end, with the customer's e-mail in the same transaction;
    nothing if the customer paused or cancelled meanwhile (it is no longer due)."""
    with bank.unit_of_work() as uow:
        session = uow.session
        done = session.execute(
            update(DomiciliationOccurrence)
            .where(DomiciliationOccurrence.id == occ.id, DomiciliationOccurrence.status == "due")
            .values(status=status, last_error=code, amount_centavos=amount,
                    finished_at=now)).rowcount
        if done == 1 and notify:
            session.add(_notice(session, occ, code, amount, now))
        uow.commit()


def _notice(session, occ: _Claimed, code, amount, now) -> OutboxMessage:
    dom = session.get(Domiciliation, occ.domiciliation_id)
    customer = session.get(Customer, dom.customer_id)
    biller = session.get(Biller, dom.biller_id)
    number = session.scalar(select(Account.number).where(Account.id == dom.account_id))
    return OutboxMessage(
        kind=NOTICE_KIND, payment_id=None, recipient=customer.email, status="pending",
        attempts=0, next_attempt_at=now, created_at=now, payload={
            "customer_name": customer.name, "service_key": biller.service_key,
            "service_name": biller.name, "references": list(dom.references),
            "account_last4": number[-4:], "due_date": occ.due_date.strftime("%d/%m/%Y"),
            "amount": format_mxn(amount) if amount else None,
            "ceiling": format_mxn(dom.ceiling_centavos) if dom.ceiling_centavos else None,
            "reason": code, "attempts": occ.attempts, "domiciliation_id": dom.id,
        })


# ---- the operators' view -----------------------------------------------------------
def pending_count(bank) -> int:
    """Occurrences still to be charged (first attempt or retry)."""
    with bank.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(DomiciliationOccurrence)
                                  .where(DomiciliationOccurrence.status == "due"))
