"""The double-entry ledger: posting balanced transfers, and proving it balances.

`verify` is the auditor: it recomputes every invariant from the entries alone
and reports each broken one, so a bug or a hand edit never goes unnoticed.
"""
from __future__ import annotations

import dataclasses

from sqlalchemy import func, insert, select, update

from banking_core.biller_notifications import KIND as WEBHOOK_KIND
from banking_core.models import (
    Account, Biller, CHANNELS, CUSTOMER_ACCOUNT_KINDS, Entry, OutboxMessage, Payment, Transfer,
)


def post_transfer(session, *, kind: str, memo: str, legs: list[tuple[int, int]], now) -> int:
    """Insert a balanced transfer: `legs` is [(account_id, signed centavos), ...].

    Cached balances of customer accounts move with their entries; the database's
    no-overdraft check refuses any leg that would take one below zero.
    """
    if len(legs) < 2 or sum(amount for _, amount in legs) != 0:
        raise ValueError("a transfer needs two or more legs summing to zero")
    if any(amount == 0 for _, amount in legs):
        raise ValueError("a transfer leg cannot be zero")
    transfer_id = session.execute(
        insert(Transfer).values(kind=kind, memo=memo, created_at=now).returning(Transfer.id)
    ).scalar_one()
    session.execute(insert(Entry), [
        dict(transfer_id=transfer_id, account_id=account_id, amount_centavos=amount,
             created_at=now)
        for account_id, amount in legs
    ])
    for account_id, amount in sorted(legs):  # fixed order: no deadlocks between transfers
        session.execute(
            update(Account)
            .where(Account.id == account_id, Account.balance_centavos.is_not(None))
            .values(balance_centavos=Account.balance_centavos + amount)
        )
    return transfer_id


def account_balance(session, account_id: int) -> int:
    """The balance as the ledger says it: the sum of the account's entries."""
    # PostgreSQL sums BIGINTs as NUMERIC; the ledger's unit is the integer centavo.
    return int(session.execute(
        select(func.coalesce(func.sum(Entry.amount_centavos), 0))
        .where(Entry.account_id == account_id)
    ).scalar_one())


@dataclasses.dataclass
class VerifyReport:
    problems: list[str] = dataclasses.field(default_factory=list)
    transfers: int = 0
    entries: int = 0
    payments: int = 0
    accounts: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        head = (f"{self.accounts} accounts, {self.transfers} transfers, "
                f"{self.entries} entries, {self.payments} payments")
        if self.ok:
            return f"ledger OK: {head}"
        return "\n".join([f"ledger BROKEN: {len(self.problems)} problem(s) in {head}"]
                         + [f"  - {p}" for p in self.problems])


def verify(session, *, day_start=None, local_date=None) -> VerifyReport:
    """Every invariant; with `local_date` (and its `day_start` in UTC) also the
    accounts' running totals for that day against the day's payments."""
    report = VerifyReport()
    problems = report.problems
    report.transfers = session.scalar(select(func.count()).select_from(Transfer))
    report.entries = session.scalar(select(func.count()).select_from(Entry))
    report.payments = session.scalar(select(func.count()).select_from(Payment))
    report.accounts = session.scalar(select(func.count()).select_from(Account))

    total = int(session.scalar(select(func.coalesce(func.sum(Entry.amount_centavos), 0))))
    if total != 0:
        problems.append(f"the entries of the whole bank sum to {total} centavos, not 0")

    unbalanced = session.execute(
        select(Transfer.id, func.coalesce(func.sum(Entry.amount_centavos), 0),
               func.count(Entry.id))
        .outerjoin(Entry, Entry.transfer_id == Transfer.id)
        .group_by(Transfer.id)
        .having((func.coalesce(func.sum(Entry.amount_centavos), 0) != 0)
                | (func.count(Entry.id) < 2))
        .order_by(Transfer.id)
    ).all()
    for transfer_id, amount, count in unbalanced:
        problems.append(f"transfer {transfer_id} has {count} entries summing to {int(amount)}")

    sums = {account_id: int(amount) for account_id, amount in session.execute(
        select(Entry.account_id, func.sum(Entry.amount_centavos)).group_by(Entry.account_id)
    )}
    for account in session.execute(
        select(Account.id, Account.number, Account.kind, Account.balance_centavos)
        .order_by(Account.id)
    ).all():
        ledger = sums.get(account.id, 0)
        if account.kind in CUSTOMER_ACCOUNT_KINDS:
            if account.balance_centavos != ledger:
                problems.append(
                    f"account {account.number}: balance {account.balance_centavos} "
                    f"but its entries sum to {ledger}"
                )
            if ledger < 0:
                problems.append(f"account {account.number} is overdrawn: {ledger}")
        elif account.kind == "collection" and ledger < 0:
            problems.append(f"collection account {account.number} is negative: {ledger}")

    _verify_payments(session, problems)
    if local_date is not None:
        _verify_daily_totals(session, problems, day_start, local_date)
    return report


def _verify_daily_totals(session, problems: list[str], day_start, local_date) -> None:
    paid = {(account_id, channel): int(total) for account_id, channel, total in session.execute(
        select(Payment.account_id, Payment.channel, func.sum(Payment.amount_centavos))
        .where(Payment.posted_at >= day_start).group_by(Payment.account_id, Payment.channel)
    )}
    for account in session.execute(
        select(Account.id, Account.number, Account.spent_phone_centavos,
               Account.spent_web_centavos, Account.spent_agent_centavos,
               Account.spent_domiciliacion_centavos)
        .where(Account.spent_on == local_date).order_by(Account.id)
    ):
        for channel in CHANNELS:
            kept = getattr(account, f"spent_{channel}_centavos")
            actual = paid.get((account.id, channel), 0)
            if kept != actual:
                problems.append(f"account {account.number}: today's {channel} total is {kept} "
                                f"but its payments today sum to {actual}")


def _verify_payments(session, problems: list[str]) -> None:
    """Each payment's transfer is exactly: customer -amount, biller +amount; its
    confirmation e-mail was queued with it; and, for a biller with a
    notification URL, its webhook too (banking_core/biller_notifications.py)
    — counted from the biller's first webhook on, since a URL may be set after
    payments were made (they get theirs only when replayed)."""
    legs: dict[int, dict[int, int]] = {}
    for transfer_id, account_id, amount in session.execute(
        select(Entry.transfer_id, Entry.account_id, Entry.amount_centavos)
        .join(Transfer, Transfer.id == Entry.transfer_id).where(Transfer.kind == "payment")
    ):
        legs.setdefault(transfer_id, {})
        legs[transfer_id][account_id] = legs[transfer_id].get(account_id, 0) + amount

    notified, announced = set(), set()
    for payment_id, kind in session.execute(
        select(OutboxMessage.payment_id, OutboxMessage.kind)
        .where(OutboxMessage.payment_id.is_not(None))
    ):
        (announced if kind == WEBHOOK_KIND else notified).add(payment_id)
    orphans = session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == WEBHOOK_KIND, OutboxMessage.payment_id.is_(None)))
    if orphans:
        problems.append(f"{orphans} biller webhook(s) in the outbox name no payment")
    first_announced: dict[int, int] = {}
    seen_transfers = set()
    for p in session.execute(
        select(Payment.id, Payment.folio, Payment.transfer_id, Payment.account_id,
               Payment.amount_centavos, Payment.biller_id, Biller.collection_account_id,
               Biller.notification_url)
        .join(Biller, Biller.id == Payment.biller_id).order_by(Payment.id)
    ):
        seen_transfers.add(p.transfer_id)
        expected = {p.account_id: -p.amount_centavos,
                    p.collection_account_id: p.amount_centavos}
        if legs.get(p.transfer_id) != expected:
            problems.append(
                f"payment {p.folio}: ledger legs {legs.get(p.transfer_id)} "
                f"do not match the payment ({expected})"
            )
        if p.id not in notified:
            problems.append(f"payment {p.folio}: no confirmation was queued")
        if p.id in announced:
            first_announced.setdefault(p.biller_id, p.id)
        elif p.notification_url is not None and p.biller_id in first_announced:
            problems.append(f"payment {p.folio}: its biller's webhook was not queued "
                            "(`ivr bank biller replay-notifications` queues it)")
    for transfer_id in sorted(set(legs) - seen_transfers):
        problems.append(f"transfer {transfer_id} is a payment transfer with no payment")
