import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from banking_core import errors


def ana(bank):
    return bank.authenticate(method="access_key", identifier="10000001", nip="1357")


def carlos(bank):
    return bank.authenticate(method="access_key", identifier="10000002", nip="2580")


def account_id(bank, principal, last4):
    return bank.find_account_by_last4(principal, last4).id


def pay(bank, principal, *, last4="5671", service_key="1411", references=("9876543217",),
        amount=65000, channel="phone", key=None, **extra):
    return bank.post_payment(
        principal, channel=channel, account_id=account_id(bank, principal, last4),
        service_key=service_key, references=list(references), amount_centavos=amount,
        idempotency_key=key or f"test-{uuid.uuid4().hex}", **extra,
    )


def balance(bank, principal, last4):
    return bank.find_account_by_last4(principal, last4).balance_centavos


def without_demo_domiciliations(bank):
    """The demo bank as it was before domiciliations: tests that domicile
    Ana's internet themselves start from none."""
    from sqlalchemy import delete

    from banking_core.models import Domiciliation
    with bank.unit_of_work() as uow:
        uow.session.execute(delete(Domiciliation))
        uow.commit()
    return bank


def at_once(*jobs):
    """Run every job at the same moment, each on its own thread; each one's
    result, or the DomainError it raised."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait()
        try:
            return job()
        except errors.DomainError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))
