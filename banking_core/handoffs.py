"""Calls handed from the IVR to the agents: each hand-off and where its caller is.

A transfer opens a hand-off ("transferring") with what the agent needs to know
(the screen pop). It becomes "waiting", and shows on the desk, only once Twilio
has really put the caller in the queue (the queue's wait URL says so): a caller
who hangs up during the transfer prompt never shows as waiting, and callers are
listed in the order they reached the line. An agent takes one (agent_calls.py);
the agent's softphone leg then dequeues exactly that caller, by CallSid, into
the hand-off's own conference. `caller_at` follows the caller's leg:
ivr → queue → agent (→ verifying → agent) → gone.

These functions are called from Twilio's webhooks, so each is one short
transaction that never waits on anything but the database.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from banking_core import errors
from banking_core.agents import AgentView, audit
from banking_core.models import Agent, Customer, Handoff

OPEN_STATUSES = ("waiting", "taken")
# What the IVR may pass along as keyed (call variables of those names): never
# a secret. How the caller logged in travels apart, as login_method.
KEYED_FIELDS = ("account_last4", "service_key", "service_name", "references_list", "amount")


@dataclasses.dataclass(frozen=True)
class HandoffRequest:
    call_sid: str
    reason: str
    caller: str | None = None
    customer_id: int | None = None
    login_method: str | None = None
    account_ids: tuple[int, ...] = ()
    keyed: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class HandoffView:
    id: int
    call_sid: str
    caller: str | None
    reason: str
    status: str
    caller_at: str
    customer_id: int | None
    customer_name: str | None
    login_method: str | None
    keyed: dict
    verify_method: str | None
    verify_last4: str | None
    agent_id: int | None
    agent_name: str | None
    folios: tuple[str, ...]
    disposition: str | None
    created_at: dt.datetime
    enqueued_at: dt.datetime | None
    taken_at: dt.datetime | None
    queue_sid: str | None = None
    agent_call_sid: str | None = None
    conference_sid: str | None = None
    agent_on_hold: bool = False

    @property
    def verified(self) -> bool:
        return self.customer_id is not None

    @property
    def conference_name(self) -> str:
        """The conference that joins this caller and the agent: named after the
        hand-off, so no other caller can ever be in it."""
        return f"linea-directa-{self.id}"


def view(session, row: Handoff) -> HandoffView:
    customer = session.get(Customer, row.customer_id) if row.customer_id else None
    agent = session.get(Agent, row.agent_id) if row.agent_id else None
    return HandoffView(
        id=row.id, call_sid=row.call_sid, caller=row.caller, reason=row.reason,
        status=row.status, caller_at=row.caller_at, customer_id=row.customer_id,
        customer_name=customer.name if customer else None, login_method=row.login_method,
        keyed=dict(row.keyed or {}), verify_method=row.verify_method,
        verify_last4=row.verify_last4, agent_id=row.agent_id,
        agent_name=agent.name if agent else None, folios=tuple(row.folios or ()),
        disposition=row.disposition, created_at=row.created_at, enqueued_at=row.enqueued_at,
        taken_at=row.taken_at, queue_sid=row.queue_sid, agent_call_sid=row.agent_call_sid,
        conference_sid=row.conference_sid, agent_on_hold=bool(row.agent_on_hold))


def _by_call(session, call_sid: str) -> Handoff | None:
    return session.scalar(select(Handoff).where(Handoff.call_sid == call_sid))


# ---- the caller's side: the IVR's webhooks ---------------------------------
def open_handoff(bank, request: HandoffRequest) -> HandoffView:
    """Idempotent per call: a repeated transfer of one call is one hand-off."""
    keyed = {k: v for k, v in request.keyed.items() if k in KEYED_FIELDS and v not in (None, "")}
    with bank.unit_of_work() as uow:
        found = _by_call(uow.session, request.call_sid)
        if found is None:
            found = Handoff(call_sid=request.call_sid, caller=request.caller,
                            reason=request.reason, status="transferring", caller_at="ivr",
                            customer_id=request.customer_id, login_method=request.login_method,
                            account_ids=sorted(request.account_ids), keyed=keyed,
                            folios=[], created_at=bank.clock())
            uow.session.add(found)
            try:
                uow.commit()
            except IntegrityError:  # a concurrent twin of this transfer won
                uow.rollback()
                found = _by_call(uow.session, request.call_sid)
        return view(uow.session, found)


def caller_enqueued(bank, call_sid: str, queue_sid: str, *, caller: str | None = None) -> None:
    """Twilio asked for the queue's wait URL: the caller is really in line. The
    first time makes the hand-off "waiting"; a caller put back in line keeps the
    place in line it first had. A caller in line with no hand-off at all (its
    transfer was answered while the database was unreachable) gets one now, so
    nobody waits where the desk cannot see them."""
    with bank.unit_of_work() as uow:
        now = bank.clock()
        done = uow.session.execute(
            update(Handoff).where(Handoff.call_sid == call_sid,
                                  Handoff.status == "transferring")
            .values(status="waiting", caller_at="queue", queue_sid=queue_sid,
                    enqueued_at=func.coalesce(Handoff.enqueued_at, now)))
        if done.rowcount == 0 and _by_call(uow.session, call_sid) is None:
            uow.session.add(Handoff(
                call_sid=call_sid, caller=caller, reason="technical_problem", status="waiting",
                caller_at="queue", queue_sid=queue_sid, account_ids=[], keyed={}, folios=[],
                created_at=now, enqueued_at=now))
        try:
            uow.commit()
        except IntegrityError:  # the wait URL's twin request created it first
            uow.rollback()


def place_in_line(bank, call_sid: str) -> int | None:
    """The caller's place among the waiting calls, in the order the desk takes
    them (Twilio's own QueuePosition is FIFO, which the desk is not bound to)."""
    with bank.unit_of_work() as uow:
        mine = uow.session.execute(
            select(Handoff.status, Handoff.enqueued_at, Handoff.id)
            .where(Handoff.call_sid == call_sid)).first()
        if mine is None or mine.status != "waiting" or mine.enqueued_at is None:
            return None
        ahead = uow.session.scalar(
            select(func.count()).select_from(Handoff).where(
                Handoff.status == "waiting",
                or_(Handoff.enqueued_at < mine.enqueued_at,
                    and_(Handoff.enqueued_at == mine.enqueued_at, Handoff.id < mine.id))))
        return ahead + 1


def caller_gone(bank, call_sid: str, *, callback: bool = False) -> HandoffView | None:
    """The caller's leg left: hung up (anywhere: during the transfer prompt, in
    line, with the agent, keying a NIP), or left the line and chose whether to
    be called back. A hand-off no agent holds closes (abandoned, or callback);
    one an agent holds stays the agent's to wrap up, marked so the desk shows
    the caller is gone, unless the caller asked for a call back, which any
    agent may then take. Returns the hand-off as it was before, so the webhook
    can end what the caller left behind (the agent alone in the conference)."""
    with bank.unit_of_work() as uow:
        row = _by_call(uow.session, call_sid)
        if row is None:
            return None
        before = view(uow.session, row)
        now = bank.clock()
        closed = "callback" if callback else "abandoned"
        uow.session.execute(
            update(Handoff).where(Handoff.id == row.id,
                                  Handoff.status.in_(("transferring", "waiting")))
            .values(status=closed, ended_at=now))
        taken = uow.session.execute(
            update(Handoff).where(Handoff.id == row.id, Handoff.status == "taken")
            .values(**(dict(status="callback", agent_id=None, taken_at=None) if callback
                       else dict(agent_on_hold=False))))
        if taken.rowcount:
            audit(uow.session, now, "caller_left" if callback else "caller_hung_up",
                  agent_id=before.agent_id, handoff_id=row.id)
        # Whatever the status (a wrapped-up call's caller hangs up too).
        uow.session.execute(update(Handoff).where(Handoff.id == row.id)
                            .values(caller_at="gone"))
        uow.commit()
        return before


def caller_out_of_line(bank, call_sid: str) -> None:
    """The caller left the line alive (after the longest wait, or a full queue)
    and is choosing whether to be called back: no agent can reach them in
    line now, so the call is not offered as waiting meanwhile."""
    with bank.unit_of_work() as uow:
        uow.session.execute(
            update(Handoff).where(Handoff.call_sid == call_sid, Handoff.status == "waiting")
            .values(status="transferring", caller_at="ivr"))
        uow.session.execute(
            update(Handoff).where(Handoff.call_sid == call_sid, Handoff.status == "taken",
                                  Handoff.caller_at == "queue")
            .values(caller_at="ivr"))
        uow.commit()


def get_for_call(bank, handoff_id: int | None, call_sid: str) -> HandoffView | None:
    """The hand-off a webhook names (?h=…), only if it belongs to this very call."""
    if handoff_id is None:
        return None
    with bank.unit_of_work() as uow:
        row = uow.session.get(Handoff, handoff_id)
        if row is None or row.call_sid != call_sid:
            return None
        return view(uow.session, row)


def find_by_call(bank, call_sid: str) -> HandoffView | None:
    with bank.unit_of_work() as uow:
        row = _by_call(uow.session, call_sid)
        return view(uow.session, row) if row else None


def caller_to_agent(bank, handoff_id: int, call_sid: str) -> HandoffView:
    """The caller's leg is going into the hand-off's conference: dequeued by the
    agent's leg, or back from keying a NIP. Only while an agent holds the call."""
    with bank.unit_of_work() as uow:
        done = uow.session.execute(
            update(Handoff).where(Handoff.id == handoff_id, Handoff.call_sid == call_sid,
                                  Handoff.status == "taken",
                                  Handoff.caller_at.in_(("queue", "agent", "verifying")))
            .values(caller_at="agent"))
        if done.rowcount != 1:
            raise errors.HandoffUnavailable("no agent holds this call")
        uow.commit()
        return view(uow.session, uow.session.get(Handoff, handoff_id))


def caller_back_in_line(bank, handoff_id: int) -> None:
    """The agent's leg went away while the caller was on the way to it: the call
    goes back to every agent, and the caller back in line with the place in line
    it had (and whatever the agent learnt, such as a verified identity)."""
    with bank.unit_of_work() as uow:
        now = bank.clock()
        done = uow.session.execute(
            update(Handoff).where(Handoff.id == handoff_id, Handoff.status == "taken")
            .values(status="transferring", caller_at="ivr", agent_id=None, taken_at=None,
                    agent_call_sid=None, agent_on_hold=False, verify_lookup=None))
        if done.rowcount:
            audit(uow.session, now, "back_in_line", handoff_id=handoff_id)
        uow.commit()


# ---- the agent's leg and the conference ------------------------------------
def agent_may_join(bank, agent: AgentView, handoff_id: int) -> HandoffView:
    """The agent's softphone reached the TwiML App for this hand-off. Only the
    agent who took the call may be bridged to it (Twilio vouches for the
    softphone's identity), and only while the caller is still there."""
    with bank.unit_of_work() as uow:
        row = uow.session.get(Handoff, handoff_id)
        if row is None or row.status != "taken" or row.agent_id != agent.id:
            raise errors.HandoffUnavailable("this call is not yours to join")
        if row.caller_at == "gone":
            raise errors.CallerGone("the caller hung up")
        return view(uow.session, row)


def agent_leg_joined(bank, agent: AgentView, handoff_id: int, agent_call_sid: str) -> None:
    """The agent's leg goes into the hand-off's conference (its caller is
    there, or on the way): kept, to hold it while the caller keys a NIP."""
    with bank.unit_of_work() as uow:
        uow.session.execute(update(Handoff).where(Handoff.id == handoff_id,
                                                  Handoff.agent_id == agent.id)
                            .values(agent_call_sid=agent_call_sid))
        audit(uow.session, bank.clock(), "agent_connected", agent_id=agent.id,
              handoff_id=handoff_id)
        uow.commit()


def conference_event(bank, handoff_id: int, *, conference_sid: str, event: str,
                     call_sid: str | None) -> HandoffView | None:
    """What Twilio reports of the hand-off's conference: its Sid (to hold and
    release the agent), and the agent's leg leaving it."""
    with bank.unit_of_work() as uow:
        row = uow.session.get(Handoff, handoff_id)
        if row is None:
            return None
        if conference_sid and row.conference_sid != conference_sid:
            row.conference_sid = conference_sid
        agent_left = (event == "conference-end" or
                      (event == "participant-leave" and call_sid == row.agent_call_sid))
        if agent_left and row.agent_call_sid is not None:
            row.agent_call_sid, row.agent_on_hold = None, False
        uow.commit()
        return view(uow.session, row)


def agent_held(bank, handoff_id: int, on_hold: bool) -> None:
    with bank.unit_of_work() as uow:
        uow.session.execute(update(Handoff).where(Handoff.id == handoff_id)
                            .values(agent_on_hold=on_hold))
        uow.commit()


def list_handoffs(bank, statuses=OPEN_STATUSES, *, agent=None) -> list[HandoffView]:
    """In the order the desk takes them: when each caller reached the line.
    For an agent, only the calls they may see (agent_calls.may_see)."""
    query = select(Handoff).where(Handoff.status.in_(statuses))
    if agent is not None and agent.role != "supervisor":
        query = query.where(or_(Handoff.agent_id == agent.id, and_(
            Handoff.agent_id.is_(None), Handoff.status.in_(("waiting", "callback")))))
    with bank.unit_of_work() as uow:
        rows = uow.session.scalars(query.order_by(
            func.coalesce(Handoff.enqueued_at, Handoff.created_at), Handoff.id)).all()
        return [view(uow.session, r) for r in rows]
