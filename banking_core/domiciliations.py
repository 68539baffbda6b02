"""Domiciliations: a customer's standing order to pay a service every month.

A customer (on the web) or an agent on the caller's behalf domiciles a service:
its references, the withdrawal account, the amount — a fixed one, or "the
amount the biller bills" up to a ceiling — the day of the month, a start and
an optional end. Everything is checked by the same rules a payment meets (the
service's references and amounts, the session's accounts). The charges
themselves are `domiciliation_runs.run_due`'s; the calendar is `schedule.py`'s.

A domiciliation is active, paused (no charge falls due while paused; resuming
picks up at the next date from the day it resumes), cancelled (for good) or
finished (its end has passed). Pausing or cancelling also drops a charge
waiting for its retry.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select, update

from banking_core import accounts, errors, schedule
from banking_core.billers import find_service
from banking_core.models import (
    Account, Biller, Domiciliation, DomiciliationOccurrence, Payment,
)
from banking_core.views import Principal

AMOUNT_MODES = ("fixed", "billed")
CREATED_CHANNELS = ("web", "agent")
OPEN_STATUSES = ("active", "paused")
MAX_KEY_LENGTH = 128


@dataclasses.dataclass(frozen=True)
class DomiciliationRequest:
    """What a customer asks for, as primitives (money in centavos)."""
    service_key: str
    references: tuple[str, ...]
    account_id: int
    amount_mode: str  # fixed | billed
    day_of_month: int
    start_date: dt.date
    amount_centavos: int | None = None  # fixed
    ceiling_centavos: int | None = None  # billed
    end_date: dt.date | None = None


@dataclasses.dataclass(frozen=True)
class OccurrenceView:
    due_date: dt.date
    status: str  # due | paid | failed | skipped | cancelled
    attempts: int
    amount_centavos: int | None
    folio: str | None
    last_error: str | None
    next_attempt_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class DomiciliationView:
    id: int
    customer_id: int
    service_key: str
    service_name: str
    references: tuple[str, ...]
    account_id: int
    account_last4: str
    amount_mode: str
    amount_centavos: int | None
    ceiling_centavos: int | None
    day_of_month: int
    start_date: dt.date
    end_date: dt.date | None
    next_date: dt.date | None
    status: str
    created_channel: str
    agent_id: int | None
    last: OccurrenceView | None = None  # the latest charge, if any

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def today(bank) -> dt.date:
    return bank.clock().astimezone(bank.policy.timezone).date()


# ---- creating ---------------------------------------------------------------
def check_request(bank, principal: Principal, request: DomiciliationRequest):
    """The service and the normalized references, or the DomainError that
    refuses the request (the first problem found, fields in form order)."""
    service = find_service(bank, request.service_key)  # unknown or inactive: refused
    references = service.check_references(request.references)
    accounts.get_account(bank, principal, request.account_id)  # refused and logged if not theirs
    if request.amount_mode == "fixed":
        if request.ceiling_centavos is not None:
            raise errors.InvalidRequest("a fixed amount takes no ceiling")
        service.check_amount(request.amount_centavos)
    elif request.amount_mode == "billed":
        if request.amount_centavos is not None:
            raise errors.InvalidRequest("the amount billed takes a ceiling, not an amount")
        service.check_amount(request.ceiling_centavos)
    else:
        raise errors.InvalidRequest(f"unknown amount mode {request.amount_mode!r}")
    first = _check_calendar(request, today(bank))
    return service, references, first


def _check_calendar(request: DomiciliationRequest, now_date: dt.date) -> dt.date:
    day = request.day_of_month
    if isinstance(day, bool) or not isinstance(day, int) \
            or not schedule.MIN_DAY <= day <= schedule.MAX_DAY:
        raise errors.InvalidSchedule("the day of the month is 1 to 31", field="day",
                                     reason="not_a_day")
    if not isinstance(request.start_date, dt.date) or request.start_date < now_date:
        raise errors.InvalidSchedule("the start cannot be in the past", field="start",
                                     reason="in_the_past")
    end = request.end_date
    if end is not None and end < request.start_date:
        raise errors.InvalidSchedule("the end is before the start", field="end",
                                     reason="before_start")
    first = schedule.next_due(day, start=request.start_date, end=end, today=now_date)
    if first is None:
        raise errors.InvalidSchedule("no charge would fall between the start and the end",
                                     field="end", reason="no_occurrence")
    return first


def create(bank, principal: Principal, request: DomiciliationRequest, *, channel: str = "web",
           agent_id: int | None = None, creation_key: str | None = None,
           on_created=None) -> DomiciliationView:
    """A new active domiciliation. `creation_key` (the form's operation id)
    makes a double submit return the first one; `on_created(session, view)`
    writes what must commit with it (an agent's audit entry)."""
    if channel not in CREATED_CHANNELS:
        raise errors.InvalidRequest(f"unknown channel {channel!r}")
    if channel == "agent" and agent_id is None:
        raise errors.InvalidRequest("an agent's domiciliation needs the agent's id")
    if creation_key is not None and not 8 <= len(creation_key) <= MAX_KEY_LENGTH:
        raise errors.InvalidRequest("a creation key of 8 to 128 characters is required")
    with bank.unit_of_work() as uow:
        found = _by_creation_key(uow.session, creation_key)
        if found is not None:
            if found.customer_id != principal.customer_id:
                raise errors.InvalidRequest("this creation key belongs to another customer")
            return _view(uow.session, found)
    service, references, first = check_request(bank, principal, request)
    now = bank.clock()
    with bank.unit_of_work() as uow:
        session = uow.session
        if _by_creation_key(session, creation_key) is not None:  # its twin won meanwhile
            return create(bank, principal, request, channel=channel, agent_id=agent_id,
                          creation_key=creation_key, on_created=on_created)
        if _open_twin(session, principal.customer_id, service.id, references):
            raise errors.DomiciliationExists(
                "that service is already domiciled with those references",
                service_key=service.service_key)
        refs = list(references) + [None] * (3 - len(references))
        row = Domiciliation(
            customer_id=principal.customer_id, account_id=request.account_id,
            biller_id=service.id, reference1=refs[0], reference2=refs[1], reference3=refs[2],
            amount_mode=request.amount_mode, amount_centavos=request.amount_centavos,
            ceiling_centavos=request.ceiling_centavos, day_of_month=request.day_of_month,
            start_date=request.start_date, end_date=request.end_date, next_date=first,
            status="active", created_channel=channel, agent_id=agent_id,
            creation_key=creation_key, created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        view = _view(session, row)
        if on_created is not None:
            on_created(session, view)
        uow.commit()
    bank.log.info("domiciliation_created", domiciliation=view.id, channel=channel,
                  service_key=view.service_key, mode=view.amount_mode, day=view.day_of_month)
    return view


def _by_creation_key(session, creation_key):
    if creation_key is None:
        return None
    return session.scalar(select(Domiciliation).where(Domiciliation.creation_key == creation_key))


def _open_twin(session, customer_id, biller_id, references) -> bool:
    rows = session.scalars(select(Domiciliation).where(
        Domiciliation.customer_id == customer_id, Domiciliation.biller_id == biller_id,
        Domiciliation.status.in_(OPEN_STATUSES)))
    return any(tuple(row.references) == tuple(references) for row in rows)


# ---- seeing -------------------------------------------------------------------
def _visible_to(principal: Principal):
    """A log-in sees the domiciliations charged to the accounts it may use, as
    it sees their payments (payments._visible_to)."""
    return (Domiciliation.customer_id == principal.customer_id) \
        & Domiciliation.account_id.in_(sorted(principal.account_ids))


def list_for(bank, principal: Principal) -> list[DomiciliationView]:
    """The log-in's domiciliations: open ones first, then newest first."""
    with bank.unit_of_work() as uow:
        rows = uow.session.scalars(select(Domiciliation).where(_visible_to(principal))
                                   .order_by(Domiciliation.id.desc())).all()
        views = [_view(uow.session, row) for row in rows]
    return sorted(views, key=lambda v: not v.is_open)


def list_all(bank, *, limit: int = 200) -> list[DomiciliationView]:
    """Every customer's, newest first: the operators' view."""
    with bank.unit_of_work() as uow:
        rows = uow.session.scalars(select(Domiciliation).order_by(Domiciliation.id.desc())
                                   .limit(limit)).all()
        return [_view(uow.session, row) for row in rows]


def get(bank, principal: Principal, domiciliation_id: int) -> DomiciliationView:
    with bank.unit_of_work() as uow:
        return _view(uow.session, _visible_row(uow.session, principal, domiciliation_id))


def _visible_row(session, principal, domiciliation_id) -> Domiciliation:
    if isinstance(domiciliation_id, bool) or not isinstance(domiciliation_id, int):
        raise errors.UnknownDomiciliation("there is no such domiciliation")
    row = session.scalar(select(Domiciliation).where(
        Domiciliation.id == domiciliation_id, _visible_to(principal)).with_for_update())
    if row is None:  # none, or not this log-in's: the same answer
        raise errors.UnknownDomiciliation("there is no such domiciliation")
    return row


def _view(session, row: Domiciliation) -> DomiciliationView:
    service_key, service_name = session.execute(
        select(Biller.service_key, Biller.name).where(Biller.id == row.biller_id)).one()
    number = session.scalar(select(Account.number).where(Account.id == row.account_id))
    last = session.execute(
        select(DomiciliationOccurrence, Payment.folio)
        .outerjoin(Payment, Payment.id == DomiciliationOccurrence.payment_id)
        .where(DomiciliationOccurrence.domiciliation_id == row.id)
        .order_by(DomiciliationOccurrence.due_date.desc()).limit(1)).one_or_none()
    return DomiciliationView(
        id=row.id, customer_id=row.customer_id, service_key=service_key,
        service_name=service_name, references=tuple(row.references), account_id=row.account_id,
        account_last4=number[-4:], amount_mode=row.amount_mode,
        amount_centavos=row.amount_centavos, ceiling_centavos=row.ceiling_centavos,
        day_of_month=row.day_of_month, start_date=row.start_date, end_date=row.end_date,
        next_date=row.next_date, status=row.status, created_channel=row.created_channel,
        agent_id=row.agent_id,
        last=None if last is None else OccurrenceView(
            due_date=last[0].due_date, status=last[0].status, attempts=last[0].attempts,
            amount_centavos=last[0].amount_centavos, folio=last[1],
            last_error=last[0].last_error, next_attempt_at=last[0].next_attempt_at))


# ---- pausing, resuming, cancelling ---------------------------------------------
def pause(bank, principal: Principal, domiciliation_id: int, **kw) -> DomiciliationView:
    return _change(bank, principal, domiciliation_id, "paused", **kw)


def resume(bank, principal: Principal, domiciliation_id: int, **kw) -> DomiciliationView:
    return _change(bank, principal, domiciliation_id, "active", **kw)


def cancel(bank, principal: Principal, domiciliation_id: int, **kw) -> DomiciliationView:
    return _change(bank, principal, domiciliation_id, "cancelled", **kw)


def _change(bank, principal, domiciliation_id, status, *, on_changed=None) -> DomiciliationView:
    """Under the domiciliation's row lock. Asking for the state it is already
    in changes nothing (a double click). `on_changed(session, view)` writes
    what must commit with the change (an agent's audit entry)."""
    now = bank.clock()
    with bank.unit_of_work() as uow:
        session = uow.session
        row = _visible_row(session, principal, domiciliation_id)
        if row.status == status:
            return _view(session, row)
        if row.status not in OPEN_STATUSES:
            raise errors.DomiciliationClosed(f"the domiciliation is {row.status}",
                                             status=row.status)
        if status == "active":
            row.next_date = schedule.next_due(row.day_of_month, start=row.start_date,
                                              end=row.end_date, today=today(bank))
            row.status = "active" if row.next_date is not None else "finished"
        else:
            row.status = status
            if status == "cancelled":
                row.next_date = None
            # A charge waiting for its retry goes with it; one being posted at
            # this very moment, already past this check, still lands (paid).
            session.execute(
                update(DomiciliationOccurrence)
                .where(DomiciliationOccurrence.domiciliation_id == row.id,
                       DomiciliationOccurrence.status == "due")
                .values(status="cancelled", finished_at=now, last_error=status))
        row.updated_at = now
        session.flush()
        view = _view(session, row)
        if on_changed is not None:
            on_changed(session, view)
        uow.commit()
    bank.log.info("domiciliation_changed", domiciliation=view.id, status=view.status)
    return view
