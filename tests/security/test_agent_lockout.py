"""Finding 5: the agents' lockout counted audit rows, so concurrent wrong
passwords all read the same count and the right password was accepted after
more failures than the limit. Against real PostgreSQL, where the race was."""
import pytest
from sqlalchemy import func, select

from banking_core import errors, loader
from banking_core.agents import AGENT_LOCKOUT_FAILURES
from banking_core.models import AgentAudit
from tests.integration.test_concurrency import run_concurrently

THREADS = 24


@pytest.fixture(params=["postgres"])
def database_url(request, postgres_database, database_url):
    return database_url


def failures_recorded(bank):
    with bank.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(AgentAudit)
                                  .where(AgentAudit.action == "login_failed"))


@pytest.mark.postgres
def test_concurrent_wrong_passwords_never_get_past_the_limit(bank):
    loader.seed_demo(bank)
    outcomes = run_concurrently(THREADS, lambda i: bank.authenticate_agent("agente1", f"bad{i}"))
    assert all(isinstance(o, errors.InvalidCredentials) for o in outcomes)
    # Exactly the limit was counted as tries; the rest found the account locked.
    assert failures_recorded(bank) == AGENT_LOCKOUT_FAILURES
    assert sum(o.details.get("remaining") == 0 for o in outcomes) \
        == THREADS - AGENT_LOCKOUT_FAILURES
    with pytest.raises(errors.InvalidCredentials) as refused:
        bank.authenticate_agent("agente1", "agente-demo-1")  # the right one, locked out
    assert refused.value.details["remaining"] == 0


def tries_in_order(bank):
    """The log-ins the database counted, in the order their row lock let them
    through (each holds the agent's row until it commits, then its audit id)."""
    with bank.unit_of_work() as uow:
        return uow.session.scalars(select(AgentAudit.action).where(
            AgentAudit.action.in_(("login", "login_failed"))).order_by(AgentAudit.id)).all()


@pytest.mark.postgres
def test_the_right_password_racing_wrong_ones_is_refused_once_locked(bank, clock):
    loader.seed_demo(bank)

    def attempt(i):
        password = "agente-demo-1" if i % 8 == 7 else f"bad{i}"
        return bank.authenticate_agent("agente1", password)

    run_concurrently(THREADS, attempt)
    run = 0
    for action in tries_in_order(bank):
        # A success only before the limit is reached; a failure never past it.
        assert action == "login_failed" or run < AGENT_LOCKOUT_FAILURES
        run = run + 1 if action == "login_failed" else 0
        assert run <= AGENT_LOCKOUT_FAILURES
    if run == AGENT_LOCKOUT_FAILURES:
        with pytest.raises(errors.InvalidCredentials):
            bank.authenticate_agent("agente1", "agente-demo-1")
    clock.advance(minutes=16)  # a lock ends by itself
    assert bank.authenticate_agent("agente1", "agente-demo-1").username == "agente1"
