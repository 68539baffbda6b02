"""Hand-offs in the core, on real databases: context, ownership, the race to take."""
import uuid

import pytest
from sqlalchemy import select

from banking_core import errors
from banking_core.handoffs import AgentView, HandoffRequest
from banking_core.models import Agent
from tests.integration.test_concurrency import run_concurrently


def agents(bank):
    with bank.unit_of_work() as uow:
        return [AgentView(id=a.id, username=a.username, name=a.name, role=a.role)
                for a in uow.session.scalars(select(Agent).order_by(Agent.id))]


def open_call(bank, **kw):
    return bank.open_handoff(HandoffRequest(call_sid="CA" + uuid.uuid4().hex,
                                            reason=kw.pop("reason", "caller_request"), **kw))


def test_opening_twice_for_one_call_is_one_handoff_and_keeps_no_secret(demo):
    request = HandoffRequest(call_sid="CA" + "a" * 32, reason="alphanumeric_reference",
                             keyed={"service_key": "2088", "nip": "1357",
                                    "identifier": "10000001", "account_last4": "5671"})
    first, second = demo.open_handoff(request), demo.open_handoff(request)
    assert first.id == second.id
    assert first.keyed == {"service_key": "2088", "account_last4": "5671"}


def test_agents_take_calls_in_arrival_order(demo):
    one, two = open_call(demo), open_call(demo)
    agent, other = agents(demo)
    assert demo.take_next_handoff(agent).id == one.id
    assert demo.take_next_handoff(other).id == two.id
    with pytest.raises(errors.NoCallWaiting):
        demo.take_next_handoff(agent)


def test_an_agent_cannot_work_on_another_agents_call(demo):
    handoff = open_call(demo)
    agent, other = agents(demo)
    demo.take_next_handoff(agent)
    with pytest.raises(errors.HandoffUnavailable):
        demo.wrap_up_handoff(AgentView(id=other.id, username="x", name="x", role="agent"),
                             handoff.id, disposition="otro")
    with pytest.raises(errors.HandoffUnavailable):
        demo.get_handoff(AgentView(id=other.id, username="x", name="x", role="agent"),
                         handoff.id)
    with pytest.raises(errors.InvalidRequest):
        demo.wrap_up_handoff(agent, handoff.id, disposition="lo que sea")


def test_agent_passwords_are_hashed_and_checked(demo):
    with demo.unit_of_work() as uow:
        stored = uow.session.scalar(select(Agent.password_hash).where(Agent.username == "agente1"))
    assert stored.startswith("$argon2id$") and "agente-demo-1" not in stored
    assert demo.authenticate_agent("agente1", "agente-demo-1").name == "Laura Méndez"
    with pytest.raises(errors.InvalidCredentials):
        demo.authenticate_agent("agente1", "agente-demo-2")
    with pytest.raises(errors.InvalidCredentials):
        demo.authenticate_agent("nadie", "agente-demo-1")


def test_many_agents_racing_for_three_calls_take_each_exactly_once(demo, database_url):
    calls = [open_call(demo).id for _ in range(3)]
    agent = agents(demo)[0]
    results = run_concurrently(8, lambda i: demo.take_next_handoff(agent))
    taken = sorted(r.id for r in results if not isinstance(r, errors.DomainError))
    refused = [r for r in results if isinstance(r, errors.DomainError)]
    assert taken == calls
    assert len(refused) == 5 and all(r.code == "no_call_waiting" for r in refused)
    takes = [a for a in demo.agent_audit() if a["action"] == "take"]
    assert sorted(a["handoff_id"] for a in takes) == calls


def test_the_agent_audit_log_is_append_only(demo):
    from sqlalchemy import delete, update
    from sqlalchemy.exc import DBAPIError

    from banking_core.models import AgentAudit

    open_call(demo)
    demo.take_next_handoff(agents(demo)[0])
    for statement in (update(AgentAudit).values(action="nothing"), delete(AgentAudit)):
        with demo.unit_of_work() as uow:
            with pytest.raises(DBAPIError, match="append-only"):
                uow.session.execute(statement)
                uow.commit()
    assert [a["action"] for a in demo.agent_audit()] == ["take"]


def test_a_callback_request_is_taken_like_a_waiting_call(demo):
    handoff = open_call(demo, reason="callback", caller="+523336693552")
    demo.caller_left_queue(handoff.call_sid, callback=True)
    agent = agents(demo)[0]
    with pytest.raises(errors.NoCallWaiting):
        demo.take_next_handoff(agent)  # not a caller on hold
    taken = demo.take_callback(agent, handoff.id)
    assert taken.status == "taken" and taken.agent_id == agent.id
    with pytest.raises(errors.HandoffUnavailable):
        demo.take_callback(agent, handoff.id)  # already taken
    assert demo.wrap_up_handoff(agent, handoff.id, disposition="consulta_resuelta").status \
        == "completed"


def test_an_agent_account_locks_after_five_failures_in_fifteen_minutes(demo, clock):
    import datetime as dt

    for _ in range(5):
        with pytest.raises(errors.InvalidCredentials):
            demo.authenticate_agent("agente1", "wrong")
    with pytest.raises(errors.InvalidCredentials) as locked:
        demo.authenticate_agent("agente1", "agente-demo-1")  # the right one, refused
    assert locked.value.details["remaining"] == 0
    assert demo.agent_audit()[0]["action"] == "login_locked"
    clock.advance(minutes=16)
    assert demo.authenticate_agent("agente1", "agente-demo-1").username == "agente1"
    # A success starts the count again.
    for _ in range(4):
        with pytest.raises(errors.InvalidCredentials):
            demo.authenticate_agent("agente1", "wrong")
    assert demo.authenticate_agent("agente1", "agente-demo-1").username == "agente1"
