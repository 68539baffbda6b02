"""Hand-offs in the core, on real databases: context, ownership, the race to take."""
import uuid

import pytest
from sqlalchemy import select

from banking_core import errors
from banking_core.agents import AgentView
from banking_core.handoffs import HandoffRequest
from banking_core.models import Agent
from tests.integration.test_concurrency import run_concurrently


def agents(bank):
    with bank.unit_of_work() as uow:
        return [AgentView(id=a.id, username=a.username, name=a.name, role=a.role)
                for a in uow.session.scalars(select(Agent).order_by(Agent.id))]


QUEUE = "QU" + "1" * 32


def open_call(bank, *, enqueue=True, **kw):
    """A transfer, and (unless told otherwise) Twilio's word that the caller is in line."""
    handoff = bank.open_handoff(HandoffRequest(call_sid="CA" + uuid.uuid4().hex,
                                               reason=kw.pop("reason", "caller_request"), **kw))
    if enqueue:
        bank.caller_enqueued(handoff.call_sid, QUEUE)
    return handoff


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
    handoff = open_call(demo, reason="callback", caller="+523336693552", enqueue=False)
    demo.caller_gone(handoff.call_sid, callback=True)
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


def status_of(bank, handoff):
    return bank.find_handoff_by_call(handoff.call_sid)


def test_a_transfer_waits_for_agents_only_once_twilio_has_the_caller_in_line(demo, clock):
    first = open_call(demo, enqueue=False)
    agent = agents(demo)[0]
    assert status_of(demo, first).status == "transferring"
    with pytest.raises(errors.NoCallWaiting):
        demo.take_next_handoff(agent)  # still hearing the transfer prompt
    clock.advance(seconds=5)
    second = open_call(demo)  # a shorter prompt: in line first
    clock.advance(seconds=5)
    demo.caller_enqueued(first.call_sid, QUEUE)
    demo.caller_enqueued(first.call_sid, QUEUE)  # the wait URL loops: nothing changes
    assert [h.id for h in demo.list_handoffs(("waiting",))] == [second.id, first.id]
    assert demo.place_in_line(second.call_sid) == 1 and demo.place_in_line(first.call_sid) == 2
    assert demo.take_next_handoff(agent).call_sid == second.call_sid


def test_a_caller_who_hangs_up_during_the_transfer_prompt_is_never_offered(demo):
    gone = open_call(demo, enqueue=False)
    before = demo.caller_gone(gone.call_sid)
    assert before.status == "transferring"
    assert (status_of(demo, gone).status, status_of(demo, gone).caller_at) == \
        ("abandoned", "gone")
    with pytest.raises(errors.NoCallWaiting):
        demo.take_next_handoff(agents(demo)[0])


def test_a_call_in_line_without_a_handoff_is_recorded_as_a_technical_problem(demo):
    call_sid = "CA" + "b" * 32
    demo.caller_enqueued(call_sid, QUEUE, caller="+523336693552")
    handoff = demo.find_handoff_by_call(call_sid)
    assert (handoff.status, handoff.reason, handoff.caller) == \
        ("waiting", "technical_problem", "+523336693552")


def test_only_the_agent_who_took_the_call_may_bridge_to_it(demo):
    handoff = open_call(demo)
    agent, other = agents(demo)
    demo.take_next_handoff(agent)
    with pytest.raises(errors.HandoffUnavailable):
        demo.agent_may_join(other, handoff.id)
    assert demo.agent_may_join(agent, handoff.id).queue_sid == QUEUE
    demo.agent_leg_joined(agent, handoff.id, "CA" + "d" * 32)
    assert status_of(demo, handoff).agent_call_sid == "CA" + "d" * 32
    demo.caller_gone(handoff.call_sid)
    with pytest.raises(errors.CallerGone):
        demo.agent_may_join(agent, handoff.id)
    assert status_of(demo, handoff).status == "taken"  # the agent wraps it up
    assert demo.agent_audit(handoff_id=handoff.id)[0]["action"] == "caller_hung_up"


def test_a_caller_still_in_line_is_released_not_closed_on(demo):
    handoff = open_call(demo)
    agent = agents(demo)[0]
    demo.take_next_handoff(agent)
    with pytest.raises(errors.CallerStillWaiting):
        demo.wrap_up_handoff(agent, handoff.id, disposition="otro")
    assert demo.release_handoff(agent, handoff.id).status == "waiting"
    assert demo.take_next_handoff(agent).id == handoff.id  # its place in line kept


def test_the_agent_going_away_puts_the_caller_back_in_line_first(demo, clock):
    first = open_call(demo)
    clock.advance(seconds=30)
    later = open_call(demo)
    agent = agents(demo)[0]
    demo.take_next_handoff(agent)
    demo.caller_to_agent(first.id, first.call_sid)
    demo.caller_back_in_line(first.id)
    assert status_of(demo, first).status == "transferring"  # until Twilio has it in line
    demo.caller_enqueued(first.call_sid, QUEUE)
    assert [h.id for h in demo.list_handoffs(("waiting",))] == [first.id, later.id]


def test_an_agent_payment_and_its_audit_commit_together_or_not_at_all(demo, monkeypatch):
    """A failure after the payment is posted, with its audit row written, in
    the same transaction, leaves neither; the agent's retry posts it once."""
    from banking_core import agent_calls
    from banking_core.models import AgentAudit, Payment
    from tests.integration.helpers import account_id, ana, balance

    customer = ana(demo)
    cheques = account_id(demo, customer, "5671")
    handoff = open_call(demo, customer_id=customer.customer_id, login_method="access_key",
                        account_ids=(cheques,))
    agent = agents(demo)[0]
    demo.take_next_handoff(agent)
    request = dict(account_id=cheques, service_key="1411", references=["9876543217"],
                   amount_centavos=12345, operation="op-1")

    def audited_then_failed(connection, **kw):
        record_payment(connection, **kw)
        raise RuntimeError("the process died between the payment and its answer")

    record_payment = agent_calls.record_payment
    monkeypatch.setattr(agent_calls, "record_payment", audited_then_failed)
    with pytest.raises(RuntimeError):
        demo.agent_pay(agent, handoff.id, **request)
    with demo.unit_of_work() as uow:
        assert uow.session.scalars(select(Payment)).all() == []
        assert uow.session.scalars(select(AgentAudit).where(
            AgentAudit.action == "payment_posted")).all() == []
    assert balance(demo, customer, "5671") == 2_500_000
    assert demo.get_handoff(agent, handoff.id).folios == ()

    monkeypatch.setattr(agent_calls, "record_payment", record_payment)
    receipt = demo.agent_pay(agent, handoff.id, **request)
    again = demo.agent_pay(agent, handoff.id, **request)
    assert again.folio == receipt.folio and again.replayed
    posted = [a for a in demo.agent_audit(handoff_id=handoff.id) if a["action"] == "payment_posted"]
    assert [a["detail"] for a in posted] == [{"folio": receipt.folio, "amount": 12345}]
    assert list(demo.get_handoff(agent, handoff.id).folios) == [receipt.folio]
    assert balance(demo, customer, "5671") == 2_500_000 - 12345
    assert demo.verify().ok
