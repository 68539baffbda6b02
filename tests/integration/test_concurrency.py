"""Concurrent payments on real PostgreSQL: exactly-once, no overdraft, no lost update."""
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from banking_core import errors
from banking_core.loader import load_bank_file
from banking_core.loader_schema import BankFile
from banking_core.models import Customer, Payment


@pytest.fixture(params=["postgres", "postgres-statements"])
def database_url(request, postgres_database, database_url):
    """Only PostgreSQL here, with each posting implementation: its row locks are
    what these tests are about (SQLite serializes every writer anyway)."""
    return database_url


@pytest.fixture
def postgres_bank(bank):
    return bank


def make_bank(bank, customers):
    load_bank_file(bank, BankFile.model_validate({
        "billers": [{"service_key": "1411", "name": "Runtime WiFi",
                     "amount": {"min": "1.00", "max": "50000.00"},
                     "references": [{"label": "Cliente", "length": 10, "check_digit": "luhn"}]}],
        "customers": customers,
    }))


def principals(bank):
    with bank.unit_of_work() as uow:
        ids = uow.session.scalars(select(Customer.id).order_by(Customer.id)).all()
    return [bank.principal_for_customer(i, method="test") for i in ids]


def run_concurrently(count, job):
    barrier = threading.Barrier(count)

    def start(i):
        barrier.wait()  # every thread posts at the same moment
        try:
            return job(i)
        except errors.DomainError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(start, range(count)))


def pay(bank, principal, *, key=None, amount=10000):
    (account_id,) = principal.account_ids
    return bank.post_payment(principal, channel="web", account_id=account_id,
                             service_key="1411", references=["9876543217"],
                             amount_centavos=amount, idempotency_key=key or uuid.uuid4().hex)


def payment_count(bank):
    with bank.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(Payment))


def test_fifty_payments_from_an_account_that_can_afford_thirty_post_thirty(postgres_bank):
    make_bank(postgres_bank, [{"name": "Ana", "email": "ana@example.com", "accounts": [
        {"number": "0012345671", "kind": "cheques", "balance": "3000.00",
         "limits": {"web": "100000.00"}}]}])
    (ana,) = principals(postgres_bank)
    results = run_concurrently(50, lambda i: pay(postgres_bank, ana))
    posted = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(posted) == 30 and len({r.folio for r in posted}) == 30
    assert len(refused) == 20 and all(isinstance(r, errors.InsufficientFunds) for r in refused)
    assert postgres_bank.list_accounts(ana)[0].balance_centavos == 0
    assert payment_count(postgres_bank) == 30
    report = postgres_bank.verify()
    assert report.ok, report.summary()


def test_twenty_concurrent_posts_with_one_key_post_once(postgres_bank):
    make_bank(postgres_bank, [{"name": "Ana", "email": "ana@example.com", "accounts": [
        {"number": "0012345671", "kind": "cheques", "balance": "3000.00"}]}])
    (ana,) = principals(postgres_bank)
    results = run_concurrently(20, lambda i: pay(postgres_bank, ana, key="call-CA42-turn-17"))
    assert not [r for r in results if isinstance(r, Exception)]
    assert len({r.folio for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert payment_count(postgres_bank) == 1
    assert postgres_bank.list_accounts(ana)[0].balance_centavos == 300000 - 10000
    assert postgres_bank.verify().ok


def test_two_hundred_accounts_paying_one_biller_at_once_all_post(postgres_bank):
    make_bank(postgres_bank, [
        {"name": f"Cliente {i}", "email": f"c{i}@example.com",
         "accounts": [{"number": f"{7000000000 + i}", "kind": "ahorro", "balance": "500.00"}]}
        for i in range(200)
    ])
    everyone = principals(postgres_bank)
    results = run_concurrently(200, lambda i: pay(postgres_bank, everyone[i], amount=12345))
    assert not [r for r in results if isinstance(r, Exception)]
    assert payment_count(postgres_bank) == 200
    report = postgres_bank.verify()
    assert report.ok, report.summary()
    from banking_core.ledger import account_balance
    with postgres_bank.unit_of_work() as uow:
        collection = postgres_bank.find_service("1411").collection_account_id
        assert account_balance(uow.session, collection) == 200 * 12345
