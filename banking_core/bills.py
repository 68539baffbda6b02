"""Billers' bills: what a biller says one customer owes for one month.

A domiciliation "for the amount billed" pays its references' bill of the
occurrence's month (docs/domiciliacion.md). Billers send their bills as CSV
files an operator loads (`ivr bank bills load FILE.csv`), one bill a line:

    service_key,reference1,reference2,reference3,period,due_date,amount
    1411,9876543217,,,2026-12,2026-12-21,349.00

reference2 and reference3 may be left empty (or their columns left out) for
services with fewer references; period is the month billed (YYYY-MM);
due_date is the biller's (YYYY-MM-DD); amount is in pesos, as text, never a
float. A file is loaded whole or not at all; every error names its line. A
bill loaded again for the same service, references and period replaces the
open one (a corrected bill), but never one already paid.
"""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from pathlib import Path

from sqlalchemy import select

from banking_core import errors
from banking_core.billers import load_service
from banking_core.models import Bill, Biller
from banking_core.money import format_mxn, parse_pesos

REQUIRED_COLUMNS = ("service_key", "reference1", "period", "due_date", "amount")
OPTIONAL_COLUMNS = ("reference2", "reference3")
PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
MAX_LINES = 100_000


class BillFileError(ValueError):
    """The file is not a valid bills file; the message names the bad line."""


@dataclasses.dataclass(frozen=True)
class BillLine:
    line: int
    service_key: str
    references: tuple[str, ...]
    period: str
    due_date: dt.date
    amount_centavos: int


@dataclasses.dataclass(frozen=True)
class BillView:
    service_key: str
    references: tuple[str, ...]
    period: str
    due_date: dt.date
    amount_centavos: int
    status: str


def references_key(references) -> str:
    """The references as one value, in the biller's normalized form."""
    return "|".join(references)


def parse_csv(text: str, *, source: str = "bills file") -> list[BillLine]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise BillFileError(f"{source}: the header lacks {', '.join(missing)} "
                            f"(columns: {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})")
    unknown = set(reader.fieldnames) - set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    if unknown:
        raise BillFileError(f"{source}: unknown column(s) {', '.join(sorted(unknown))}")
    lines = []
    for row in reader:
        where = f"{source}, line {reader.line_num}"
        if len(lines) >= MAX_LINES:
            raise BillFileError(f"{where}: more than {MAX_LINES} bills in one file")
        if None in row or any(v is None for v in row.values()):
            raise BillFileError(f"{where}: not as many values as the header has columns")
        lines.append(_line(row, reader.line_num, where))
    if not lines:
        raise BillFileError(f"{source}: no bills")
    return lines


def _line(row: dict, number: int, where: str) -> BillLine:
    period = row["period"].strip()
    if not PERIOD.fullmatch(period):
        raise BillFileError(f"{where}: period {period!r} is not a month as YYYY-MM")
    try:
        due_date = dt.date.fromisoformat(row["due_date"].strip())
    except ValueError:
        raise BillFileError(f"{where}: due_date {row['due_date']!r} is not a date as "
                            "YYYY-MM-DD") from None
    try:
        amount = parse_pesos(row["amount"])
    except ValueError as exc:
        raise BillFileError(f"{where}: amount: {exc}") from None
    if amount <= 0:
        raise BillFileError(f"{where}: amount must be greater than zero")
    references = [row.get(c, "") or "" for c in ("reference1", "reference2", "reference3")]
    while references and not references[-1].strip():
        references.pop()
    return BillLine(line=number, service_key=row["service_key"].strip(),
                    references=tuple(r.strip() for r in references), period=period,
                    due_date=due_date, amount_centavos=amount)


def load(bank, lines: list[BillLine], *, source: str = "bills file") -> dict[str, int]:
    """Every bill in one transaction: each checked by its service's rules."""
    now = bank.clock()
    counts = {"created": 0, "replaced": 0}
    with bank.unit_of_work() as uow:
        session = uow.session
        seen = set()
        for line in lines:
            where = f"{source}, line {line.line}"
            try:
                service = load_service(session, line.service_key)
                refs = service.check_references(line.references)
                service.check_amount(line.amount_centavos)
            except errors.DomainError as exc:
                raise BillFileError(f"{where}: {exc.message}") from None
            key = (service.id, references_key(refs), line.period)
            if key in seen:
                raise BillFileError(f"{where}: a second bill for the same references and "
                                    f"period {line.period}")
            seen.add(key)
            bill = session.scalar(select(Bill).where(
                Bill.biller_id == service.id, Bill.references_key == key[1],
                Bill.period == line.period).with_for_update())
            if bill is None:
                session.add(Bill(biller_id=service.id, references_key=key[1], period=line.period,
                                 due_date=line.due_date, amount_centavos=line.amount_centavos,
                                 status="open", created_at=now, updated_at=now))
                counts["created"] += 1
            elif bill.status == "paid":
                raise BillFileError(f"{where}: the bill of period {line.period} for those "
                                    "references is already paid")
            else:
                bill.due_date, bill.amount_centavos = line.due_date, line.amount_centavos
                bill.updated_at = now
                counts["replaced"] += 1
        uow.commit()
    return counts


def load_file(bank, path: str | Path) -> dict[str, int]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BillFileError(f"{path}: cannot read: {exc}") from None
    return load(bank, parse_csv(text, source=str(path)), source=str(path))


def list_bills(bank, *, limit: int = 200) -> list[BillView]:
    with bank.unit_of_work() as uow:
        rows = uow.session.execute(
            select(Bill, Biller.service_key).join(Biller, Biller.id == Bill.biller_id)
            .order_by(Bill.period.desc(), Bill.id.desc()).limit(limit)).all()
        return [BillView(service_key=key, references=tuple(bill.references_key.split("|")),
                         period=bill.period, due_date=bill.due_date,
                         amount_centavos=bill.amount_centavos, status=bill.status)
                for bill, key in rows]


def describe(bill: BillView) -> str:
    return (f"{bill.service_key:>6}  {' '.join(bill.references):<24}{bill.period}  "
            f"due {bill.due_date:%Y-%m-%d}{format_mxn(bill.amount_centavos):>14}  {bill.status}")
