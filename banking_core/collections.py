"""A biller's daily collection file, and its reconciliation with the ledger.

The day is the bank's local calendar day (BANK_TIMEZONE, America/Mexico_City
by default): from local midnight to the next, as [start, end) in UTC. The file
lists every payment to the biller posted in it, oldest first, then its count
and total; the total must equal what the ledger credited the biller's
collection account, in payment transfers, in the same hours — a sum taken from
the entries alone, not from the payments the file lists. Format:
docs/biller-notifications.md.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from banking_core import biller_keys, biller_payments
from banking_core.models import Entry, Transfer

COLUMNS = ("folio", "posted_at_local", "channel", "reference1", "reference2", "reference3",
           "amount", "amount_centavos", "order_id")


@dataclasses.dataclass(frozen=True)
class CollectionFile:
    service_key: str
    service_name: str
    day: dt.date
    timezone: ZoneInfo
    payments: tuple[biller_payments.BillerPayment, ...]
    ledger_centavos: int  # the collection account's payment credits that day

    @property
    def count(self) -> int:
        return len(self.payments)

    @property
    def total_centavos(self) -> int:
        return sum(p.amount_centavos for p in self.payments)

    @property
    def reconciled(self) -> bool:
        return self.total_centavos == self.ledger_centavos


def collection_file(bank, service_key: str, day: dt.date) -> CollectionFile:
    timezone = bank.policy.timezone
    start, end = biller_payments.day_bounds(timezone, day)
    with bank.unit_of_work() as uow:
        biller = biller_keys.biller_by_service_key(uow.session, service_key)
        payments = biller_payments.in_period(uow.session, biller.id, start, end)
        ledger = uow.session.scalar(
            select(func.coalesce(func.sum(Entry.amount_centavos), 0))
            .join(Transfer, Transfer.id == Entry.transfer_id)
            .where(Entry.account_id == biller.collection_account_id,
                   Transfer.kind == "payment", Entry.created_at >= start,
                   Entry.created_at < end))
        return CollectionFile(biller.service_key, biller.name, day, timezone,
                              tuple(payments), int(ledger))


def to_csv(report: CollectionFile) -> str:
    """The file: a header, one row per payment, a blank row, then the summary
    as name,value rows (service, day, time zone, count, total)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for p in report.payments:
        refs = list(p.references) + [""] * (3 - len(p.references))
        local = p.posted_at.astimezone(report.timezone).strftime("%Y-%m-%d %H:%M:%S")
        writer.writerow([p.folio, local, p.channel, *refs,
                         biller_payments.pesos_text(p.amount_centavos), p.amount_centavos,
                         p.order_id or ""])
    writer.writerow([])
    for name, value in (("service_key", report.service_key),
                        ("service_name", report.service_name),
                        ("date", report.day.isoformat()), ("time_zone", str(report.timezone)),
                        ("count", report.count),
                        ("total", biller_payments.pesos_text(report.total_centavos)),
                        ("total_centavos", report.total_centavos)):
        writer.writerow([name, value])
    return out.getvalue()

