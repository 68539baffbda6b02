"""A domiciliation's calendar: on which dates of which months it is charged.

Pure functions of dates. A domiciliation names a day of the month, 1 to 31;
a month without that day (the 29th to the 31st in a short month) is charged on
its last day instead: day 31 is charged on 30 April and on 28 February (29 in
a leap year), never skipped and never moved into the next month, so every
month has exactly one occurrence.
"""
from __future__ import annotations

import calendar
import datetime as dt

MIN_DAY, MAX_DAY = 1, 31


def occurrence_in(year: int, month: int, day_of_month: int) -> dt.date:
    """The date a domiciliation on `day_of_month` is charged in that month."""
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day_of_month, last))


def _next_month(date: dt.date) -> tuple[int, int]:
    return (date.year + 1, 1) if date.month == 12 else (date.year, date.month + 1)


def first_on_or_after(day_of_month: int, date: dt.date) -> dt.date:
    """The first occurrence on `date` or later."""
    this_month = occurrence_in(date.year, date.month, day_of_month)
    if this_month >= date:
        return this_month
    return occurrence_in(*_next_month(date), day_of_month)


def following(day_of_month: int, occurrence: dt.date) -> dt.date:
    """The occurrence after `occurrence`: the next month's."""
    return occurrence_in(*_next_month(occurrence), day_of_month)


def next_due(day_of_month: int, *, start: dt.date, end: dt.date | None,
             today: dt.date) -> dt.date | None:
    """The first occurrence from `start` (or from today, if later) up to `end`
    inclusive; None when there is none left."""
    due = first_on_or_after(day_of_month, max(start, today))
    return None if end is not None and due > end else due


def period_of(occurrence: dt.date) -> str:
    """The billing period an occurrence pays for a domiciliation "for the
    amount billed": its month, as a biller's bill names it (YYYY-MM)."""
    return f"{occurrence.year:04d}-{occurrence.month:02d}"
