"""Scheduler runs racing on real PostgreSQL (cron and the worker, or two
workers): every date is scheduled once and charged once."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from banking_core.models import DomiciliationOccurrence, Payment
from tests.integration.helpers import ana, at_once, carlos, without_demo_domiciliations
from tests.integration.test_domiciliations import at, domicile


@pytest.fixture(params=["postgres", "postgres-statements"])
def database_url(request, postgres_database, database_url):
    """Only PostgreSQL, with each posting implementation: its row locks and
    unique indexes are what these tests are about (SQLite serializes writers)."""
    return database_url


@pytest.fixture
def bank(bank, clock):
    clock.set(at(2027, 1, 1, 8))
    return bank


@pytest.fixture
def demo(demo):
    return without_demo_domiciliations(demo)


def counts(bank):
    with bank.unit_of_work() as uow:
        return (uow.session.scalar(select(func.count()).select_from(Payment)
                                   .where(Payment.channel == "domiciliacion")),
                uow.session.scalar(select(func.count()).select_from(DomiciliationOccurrence)))


def test_eight_runs_at_once_every_day_of_a_month_charge_each_date_once(demo, clock):
    doms = [domicile(demo, ana(demo), day=day, service_key=key, references=refs, last4=last4)
            for day, key, refs, last4 in ((3, "1411", ("9876543217",), "5671"),
                                          (15, "25", ("123456789",), "5432"),
                                          (31, "5005", ("12345678", "0127"), "0011"))]
    doms.append(domicile(demo, carlos(demo), day=20, amount=5000, last4="0002"))
    day = dt.date(2027, 1, 1)
    posted = []
    while day <= dt.date(2027, 2, 1):
        clock.set(at(day.year, day.month, day.day, 0, 1))
        for report in at_once(*[demo.run_due] * 8):
            posted += [o.folio for o in report.outcomes if o.result == "posted"]
            assert report.errors == 0
        day += dt.timedelta(days=1)
    assert len(posted) == len(set(posted)) == 4
    assert counts(demo) == (4, 4)
    assert demo.verify().ok
