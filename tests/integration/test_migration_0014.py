"""Migration 0014 (billers' webhooks) goes down and up again on SQLite and
PostgreSQL: the trigger with it, the outbox's e-mails kept, the schema the
models' once more."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from banking_core import loader, migrate
from banking_core.bank import Bank
from banking_core.db import make_engine, make_session_factory
from banking_core.models import Base, OutboxMessage
from banking_core.policy import BankPolicy
from tests import services
from tests.integration.helpers import ana, pay


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    try:
        url = services.create_postgres_database()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        services.unavailable("PostgreSQL", services.POSTGRES_URL, exc)
    yield url
    services.drop_postgres_database(url)


def kinds(bank):
    with bank.unit_of_work() as uow:
        return dict(uow.session.execute(select(OutboxMessage.kind, func.count())
                                        .group_by(OutboxMessage.kind)).all())


def has_webhook_trigger(engine) -> bool:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            found = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars().all()
        else:
            found = connection.exec_driver_sql(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal").scalars().all()
    return any("biller_webhook" in name for name in found)


def test_0014_goes_down_and_up_again(fresh_url, hasher):
    migrate.upgrade(fresh_url)
    engine = make_engine(fresh_url)
    try:
        bank = Bank(session_factory=make_session_factory(engine), hasher=hasher,
                    policy=BankPolicy())
        loader.seed_demo(bank)
        pay(bank, ana(bank))
        assert kinds(bank) == {"payment_confirmation": 1, "biller_webhook": 1}

        # Below 0014 (and the migrations after it, whose columns today's
        # models need to post a payment): the webhooks and their trigger go,
        # the e-mails stay.
        migrate.downgrade(fresh_url, "0013")
        engine.dispose()
        assert kinds(bank) == {"payment_confirmation": 1}
        assert not has_webhook_trigger(engine)

        migrate.upgrade(fresh_url)
        engine.dispose()
        assert has_webhook_trigger(engine)
        pay(bank, ana(bank))
        assert kinds(bank) == {"payment_confirmation": 2, "biller_webhook": 1}
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        assert bank.verify().ok
    finally:
        engine.dispose()
