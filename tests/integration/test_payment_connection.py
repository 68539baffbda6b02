"""The connection a payment runs on, on real PostgreSQL: the function path
skips the pool's pre-ping round trip, and a pooled connection the server
dropped meanwhile still gets the payment posted exactly once."""
import time
import uuid

import pytest
from sqlalchemy import func, select, text

from banking_core import loader
from banking_core.bank import Bank
from banking_core.db import make_engine, make_session_factory, without_pre_ping
from banking_core.models import Payment
from banking_core.policy import BankPolicy
from tests import services
from tests.integration.helpers import account_id, ana


@pytest.fixture(params=["postgres", "postgres-statements"])
def database_url(request, postgres_database, database_url):
    """Only PostgreSQL (server-side connections to drop), each posting path."""
    return database_url


@pytest.fixture
def one_connection_bank(database_url, hasher, clock):
    """The demo bank on a pool of one connection: every operation reuses it."""
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    bank = Bank(session_factory=make_session_factory(engine), hasher=hasher,
                policy=BankPolicy(), clock=clock)
    loader.seed_demo(bank)
    yield bank
    engine.dispose()


@pytest.fixture
def pings(one_connection_bank, monkeypatch):
    """The pre-pings the pool sends, counted."""
    dialect = one_connection_bank.engine.dialect
    sent = []
    real = dialect.do_ping

    def counting(dbapi_connection):
        sent.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counting)
    return sent


def post(bank, principal, account, key=None):
    return bank.post_payment(principal, channel="phone", account_id=account,
                             service_key="1411", references=["9876543217"],
                             amount_centavos=1000,
                             idempotency_key=key or f"test-{uuid.uuid4().hex}")


def backend_pid(bank) -> int:
    with bank.engine.connect() as conn:
        return conn.connection.driver_connection.info.backend_pid


def terminate(pid: int) -> None:
    admin = services.postgres_admin_engine()
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
            for _ in range(100):
                if not conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                    {"pid": pid}).scalar():
                    return
                time.sleep(0.05)
        raise AssertionError(f"backend {pid} still alive")
    finally:
        admin.dispose()


def test_a_payment_skips_the_pre_ping_only_on_the_function_path(
        one_connection_bank, pings, database_url, request):
    bank = one_connection_bank
    customer = ana(bank)
    account = account_id(bank, customer, "5671")
    post(bank, customer, account)  # caches the service
    pings.clear()
    post(bank, customer, account)
    function_path = request.node.callspec.params["database_url"] == "postgres"
    assert len(pings) == (0 if function_path else 1)
    bank.find_service("1411")  # every other checkout still pings
    assert len(pings) == (1 if function_path else 2)


def test_a_payment_on_a_connection_the_server_dropped_posts_once(
        one_connection_bank, monkeypatch, request):
    from banking_core import payments

    bank = one_connection_bank
    customer = ana(bank)
    account = account_id(bank, customer, "5671")
    post(bank, customer, account)
    terminate(backend_pid(bank))  # a server restart, as the pooled connection sees it
    attempts = []
    real = payments._post_once

    def counted(*args, **kwargs):
        attempts.append(kwargs["pre_ping"])
        return real(*args, **kwargs)

    monkeypatch.setattr(payments, "_post_once", counted)
    receipt = post(bank, customer, account, key="after-the-restart")
    assert not receipt.replayed
    if request.node.callspec.params["database_url"] == "postgres":
        # Unpinged, the first attempt met the dead connection; the next one posted.
        assert attempts == [False, True]
    else:  # the statement path's checkout pinged, and reconnected by itself
        assert attempts == [False]
    with bank.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Payment)
                                  .where(Payment.idempotency_key == "after-the-restart")) == 1
    assert bank.verify().ok


def _set_biller(bank, **values):
    from sqlalchemy import update

    from banking_core.models import Biller
    with bank.unit_of_work() as uow:
        uow.session.execute(update(Biller).where(Biller.service_key == "1411").values(**values))
        uow.commit()


def test_a_biller_changed_between_two_payments_on_one_connection_is_enforced(
        one_connection_bank, monkeypatch):
    """One pooled connection, so the second payment reuses the first one's
    cursor and prepared statement: the change must still be seen, by the
    cached service's refusal being confirmed, and by the posting refusing the
    cached service's old version."""
    from banking_core import errors, posting

    bank = one_connection_bank
    customer = ana(bank)
    account = account_id(bank, customer, "5671")
    post(bank, customer, account)  # caches 1411; its cursor stays with the connection
    cached = bank.services.get("1411")

    _set_biller(bank, name="Runtime WiFi Fibra")  # a new version the checks cannot see
    outcomes = []
    real = posting.post

    def watched(conn, request):
        result = real(conn, request)
        outcomes.append(result.outcome)
        return result

    monkeypatch.setattr(posting, "post", watched)
    receipt = post(bank, customer, account)
    # The cached copy passed every check, the posting refused its version, the
    # payment went through with the service as the database has it now.
    assert outcomes == ["stale_service", "posted"]
    assert receipt.service_name == "Runtime WiFi Fibra"
    assert bank.services.get("1411").version > cached.version

    _set_biller(bank, amount_max_centavos=999)  # a stricter rule
    with pytest.raises(errors.AmountOutOfRange):
        post(bank, customer, account)  # 1000 centavos
    assert bank.verify().ok


def test_disposing_inside_without_pre_ping_keeps_the_new_pool_pinging(database_url):
    engine = make_engine(database_url, pool_size=1)
    try:
        with without_pre_ping():
            assert not engine.pool._pre_ping
            engine.dispose()
        assert engine.pool._pre_ping
    finally:
        engine.dispose()
