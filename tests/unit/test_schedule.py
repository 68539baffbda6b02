"""A domiciliation's calendar: one date a month, the last day standing in
for a day the month lacks."""
import datetime as dt

import pytest

from banking_core import schedule

D = dt.date


@pytest.mark.parametrize("year,month,day,expected", [
    (2027, 1, 31, D(2027, 1, 31)),
    (2027, 2, 31, D(2027, 2, 28)),
    (2028, 2, 31, D(2028, 2, 29)),  # leap year
    (2027, 2, 29, D(2027, 2, 28)),
    (2027, 4, 31, D(2027, 4, 30)),
    (2027, 4, 30, D(2027, 4, 30)),
    (2027, 12, 1, D(2027, 12, 1)),
])
def test_a_day_the_month_lacks_falls_on_its_last_day(year, month, day, expected):
    assert schedule.occurrence_in(year, month, day) == expected


def test_the_first_date_is_this_months_if_not_past_else_next_months():
    assert schedule.first_on_or_after(15, D(2027, 1, 15)) == D(2027, 1, 15)
    assert schedule.first_on_or_after(15, D(2027, 1, 16)) == D(2027, 2, 15)
    assert schedule.first_on_or_after(31, D(2027, 2, 1)) == D(2027, 2, 28)
    assert schedule.first_on_or_after(5, D(2027, 12, 6)) == D(2028, 1, 5)


def test_day_31_is_charged_every_month_never_twice_in_one():
    dates, date = [], schedule.first_on_or_after(31, D(2027, 1, 1))
    while date.year == 2027:
        dates.append(date)
        date = schedule.following(31, date)
    assert len(dates) == 12 and len({d.month for d in dates}) == 12
    assert dates[1] == D(2027, 2, 28) and dates[2] == D(2027, 3, 31) and dates[3] == D(2027, 4, 30)


def test_next_due_starts_at_the_start_or_today_and_stops_at_the_end():
    assert schedule.next_due(5, start=D(2027, 3, 1), end=None, today=D(2027, 1, 10)) == D(2027, 3, 5)
    assert schedule.next_due(5, start=D(2027, 1, 1), end=None, today=D(2027, 1, 10)) == D(2027, 2, 5)
    assert schedule.next_due(5, start=D(2027, 1, 1), end=D(2027, 2, 4),
                             today=D(2027, 1, 10)) is None
    assert schedule.next_due(5, start=D(2027, 1, 1), end=D(2027, 2, 5),
                             today=D(2027, 1, 10)) == D(2027, 2, 5)


def test_a_date_pays_the_bill_of_its_month():
    assert schedule.period_of(D(2027, 2, 28)) == "2027-02"
