"""What agents do with transferred calls: take one, verify a caller who never
logged in (the agent keys the card or account number; the caller keys the NIP
on the phone, never to the agent), pay through the same core with channel
"agent", and wrap up with a disposition. Every agent action is audited."""
from __future__ import annotations

from sqlalchemy import func, select, update

from banking_core import auth, domiciliations, errors
from banking_core.agents import AgentView, audit
from banking_core.handoffs import HandoffView, view
from banking_core.models import AgentAudit, Customer, Handoff
from banking_core.views import Principal

DISPOSITIONS = {
    "pago_realizado": "Pago realizado",
    "consulta_resuelta": "Consulta resuelta",
    "cliente_no_verificado": "Cliente no verificado",
    "cliente_colgo": "El cliente colgó",
    "transferido": "Transferido a otra área",
    "otro": "Otro",
}


def take_next(bank, agent: AgentView) -> HandoffView:
    """The call that has waited longest in line, taken by this agent. The
    conditional UPDATE is the arbiter: of two agents racing for one call,
    exactly one changes the row; the other moves on to the next call, or hears
    that none is waiting. Only calls Twilio has really enqueued are offered."""
    while True:
        with bank.unit_of_work() as uow:
            candidate = uow.session.scalar(
                select(Handoff.id).where(Handoff.status == "waiting")
                .order_by(func.coalesce(Handoff.enqueued_at, Handoff.created_at), Handoff.id)
                .limit(1))
            if candidate is None:
                raise errors.NoCallWaiting("no call is waiting")
            now = bank.clock()
            done = uow.session.execute(
                update(Handoff).where(Handoff.id == candidate, Handoff.status == "waiting")
                .values(status="taken", agent_id=agent.id, taken_at=now))
            if done.rowcount != 1:
                continue  # another agent took it first
            audit(uow.session, now, "take", agent_id=agent.id, handoff_id=candidate)
            uow.commit()
            return view(uow.session, uow.session.get(Handoff, candidate))


def take_callback(bank, agent: AgentView, handoff_id: int) -> HandoffView:
    """A call-back request, taken by the agent who will phone the customer."""
    with bank.unit_of_work() as uow:
        now = bank.clock()
        done = uow.session.execute(
            update(Handoff).where(Handoff.id == handoff_id, Handoff.status == "callback")
            .values(status="taken", agent_id=agent.id, taken_at=now))
        if done.rowcount != 1:
            raise errors.HandoffUnavailable("no such call-back is waiting")
        audit(uow.session, now, "take_callback", agent_id=agent.id, handoff_id=handoff_id)
        uow.commit()
        return view(uow.session, uow.session.get(Handoff, handoff_id))


def release(bank, agent: AgentView, handoff_id: int) -> HandoffView:
    """The agent gives back a call whose caller is still in line (taken by
    mistake, or no phone at hand): it is waiting again, in its place in line."""
    with bank.unit_of_work() as uow:
        now = bank.clock()
        done = uow.session.execute(
            update(Handoff).where(Handoff.id == handoff_id, Handoff.agent_id == agent.id,
                                  Handoff.status == "taken", Handoff.caller_at == "queue")
            .values(status="waiting", agent_id=None, taken_at=None, agent_call_sid=None,
                    verify_lookup=None))
        if done.rowcount != 1:
            _owned(uow.session, agent, handoff_id)  # says why: not yours, or not in line
            raise errors.CallerNotOnLine("only a caller still in line can be given back")
        audit(uow.session, now, "release", agent_id=agent.id, handoff_id=handoff_id)
        uow.commit()
        return view(uow.session, uow.session.get(Handoff, handoff_id))


def _owned(session, agent: AgentView, handoff_id: int) -> Handoff:
    row = session.get(Handoff, handoff_id)
    if row is None or row.agent_id != agent.id or row.status != "taken":
        raise errors.HandoffUnavailable("this call is not yours to work on")
    return row


def get_handoff(bank, agent: AgentView, handoff_id: int) -> HandoffView:
    with bank.unit_of_work() as uow:
        row = uow.session.get(Handoff, handoff_id)
        if row is None or not may_see(agent, row):
            raise errors.HandoffUnavailable("this call is not yours to see")
        return view(uow.session, row)


def may_see(agent: AgentView, row: Handoff) -> bool:
    """A call's screen pop holds the customer's name, number and what they
    keyed: an agent sees the calls they took and those still waiting for any
    agent (to take them); a supervisor sees all. Another agent's call, or a
    closed one nobody took, is nobody else's business."""
    if agent.role == "supervisor" or row.agent_id == agent.id:
        return True
    return row.agent_id is None and row.status in ("waiting", "callback")


def current_call(bank, agent: AgentView) -> HandoffView | None:
    """The call this agent holds now (the newest, should there be several)."""
    with bank.unit_of_work() as uow:
        row = uow.session.scalar(
            select(Handoff).where(Handoff.agent_id == agent.id, Handoff.status == "taken")
            .order_by(Handoff.taken_at.desc(), Handoff.id.desc()).limit(1))
        return view(uow.session, row) if row else None


# ---- verifying a caller who never logged in --------------------------------
def request_verification(bank, agent: AgentView, handoff_id: int, *, method: str,
                         identifier: str) -> HandoffView:
    """The agent keyed the card or account number the caller read out; the
    caller will key the NIP on the phone. Only the keyed hash and the last 4
    are kept. The caller must be on the line with the agent to read it out."""
    if method not in ("card", "account"):
        raise errors.MalformedCredential("verify by card or account number", method=method)
    ident = auth.normalize_identifier(method, identifier)
    with bank.unit_of_work() as uow:
        row = _owned(uow.session, agent, handoff_id)
        if row.caller_at != "agent":
            raise errors.CallerGone("the caller hung up") if row.caller_at == "gone" else \
                errors.CallerNotOnLine("the caller is not on the line with the agent")
        row.verify_method, row.verify_last4 = method, ident[-4:]
        row.verify_lookup = bank.hasher.lookup_hash(method, ident)
        audit(uow.session, bank.clock(), "verification_requested", agent_id=agent.id,
              handoff_id=handoff_id, method=method, last4=ident[-4:])
        uow.commit()
        return view(uow.session, row)


def caller_sent_to_verify(bank, handoff_id: int) -> None:
    """Twilio took the caller's leg to the IVR to key the NIP."""
    with bank.unit_of_work() as uow:
        uow.session.execute(update(Handoff).where(Handoff.id == handoff_id,
                                                  Handoff.caller_at == "agent")
                            .values(caller_at="verifying"))
        uow.commit()


def verify_caller(bank, handoff_id: int, nip: str) -> HandoffView:
    """The caller keyed the NIP of the card or account the agent keyed. Failures
    count against that credential exactly as a log-in's do."""
    with bank.unit_of_work() as uow:
        row = uow.session.get(Handoff, handoff_id)
        if row is None or row.verify_lookup is None or row.status != "taken":
            raise errors.HandoffUnavailable("no verification pending for this call")
        method, lookup, agent_id = row.verify_method, row.verify_lookup, row.agent_id
    principal = auth.authenticate_lookup(bank, method=method, lookup=lookup, nip=nip)
    with bank.unit_of_work() as uow:
        row = uow.session.get(Handoff, handoff_id)
        row.customer_id, row.login_method = principal.customer_id, f"{method}+nip"
        row.account_ids = sorted(principal.account_ids)
        row.verify_lookup = None
        audit(uow.session, bank.clock(), "caller_verified", agent_id=agent_id,
              handoff_id=handoff_id, method=method)
        uow.commit()
        return view(uow.session, row)


# ---- paying and wrapping up ----------------------------------------------------
def caller_principal(bank, agent: AgentView, handoff_id: int) -> Principal:
    """Whom the agent acts for: the caller as the IVR (or the NIP) proved it,
    limited to the accounts that proof allows."""
    with bank.unit_of_work() as uow:
        row = _owned(uow.session, agent, handoff_id)
        if row.customer_id is None:
            raise errors.CallerNotVerified("the caller has not been verified")
        customer = uow.session.get(Customer, row.customer_id)
        return Principal(customer_id=customer.id, customer_name=customer.name,
                         method="agent_verified", account_ids=frozenset(row.account_ids))


def pay(bank, agent: AgentView, handoff_id: int, *, account_id: int, service_key: str,
        references, amount_centavos: int, operation: str):
    """A payment for the caller, with channel "agent". Its audit row and the
    hand-off's folio commit in the payment's own transaction: no payment
    without its audit, no audit of a payment that was not made."""
    principal = caller_principal(bank, agent, handoff_id)

    def with_payment(connection, receipt):
        record_payment(connection, agent_id=agent.id, handoff_id=handoff_id, receipt=receipt)

    try:
        return bank.post_payment(
            principal, channel="agent", agent_id=agent.id, account_id=account_id,
            service_key=service_key, references=references, amount_centavos=amount_centavos,
            idempotency_key=f"agent:{handoff_id}:{operation}", with_payment=with_payment)
    except errors.DomainError as exc:
        with bank.unit_of_work() as uow:
            audit(uow.session, bank.clock(), "payment_refused", agent_id=agent.id,
                  handoff_id=handoff_id, code=exc.code, service_key=str(service_key)[:8])
            uow.commit()
        raise


def record_payment(connection, *, agent_id: int, handoff_id: int, receipt) -> None:
    """On the posting's connection, in its transaction: the folio joins the
    hand-off's (under the hand-off's row lock, so two payments on one call
    both land) and the payment is audited."""
    folios = connection.execute(
        select(Handoff.folios).where(Handoff.id == handoff_id).with_for_update()).scalar_one()
    connection.execute(update(Handoff).where(Handoff.id == handoff_id)
                       .values(folios=[*(folios or []), receipt.folio]))
    audit(connection, receipt.posted_at, "payment_posted", agent_id=agent_id,
          handoff_id=handoff_id, folio=receipt.folio, amount=receipt.amount_centavos)


def create_domiciliation(bank, agent: AgentView, handoff_id: int, request, *, operation: str):
    """A domiciliation for the verified caller, from the accounts that proof
    allows; its audit entry commits with it. A refusal is audited too."""
    principal = caller_principal(bank, agent, handoff_id)

    def on_created(session, view):
        audit(session, bank.clock(), "domiciliation_created", agent_id=agent.id,
              handoff_id=handoff_id, service_key=view.service_key, day=view.day_of_month)

    try:
        return domiciliations.create(bank, principal, request, channel="agent",
                                     agent_id=agent.id, on_created=on_created,
                                     creation_key=f"agent:{handoff_id}:{operation}")
    except errors.DomainError as exc:
        with bank.unit_of_work() as uow:
            audit(uow.session, bank.clock(), "domiciliation_refused", agent_id=agent.id,
                  handoff_id=handoff_id, code=exc.code,
                  service_key=str(request.service_key)[:8])
            uow.commit()
        raise


def cancel_domiciliation(bank, agent: AgentView, handoff_id: int, domiciliation_id: int):
    """The caller asked the agent to cancel one; audited with the change."""
    principal = caller_principal(bank, agent, handoff_id)

    def on_changed(session, view):
        audit(session, bank.clock(), "domiciliation_cancelled", agent_id=agent.id,
              handoff_id=handoff_id, service_key=view.service_key)

    return domiciliations.cancel(bank, principal, domiciliation_id, on_changed=on_changed)


def wrap_up(bank, agent: AgentView, handoff_id: int, *, disposition: str,
            notes: str = "") -> HandoffView:
    """Close the call. A caller still in line cannot be closed on (nobody would
    ever take them): the agent connects to them or gives the call back."""
    if disposition not in DISPOSITIONS:
        raise errors.InvalidRequest(f"unknown disposition {disposition!r}")
    with bank.unit_of_work() as uow:
        row = _owned(uow.session, agent, handoff_id)
        if row.caller_at == "queue":
            raise errors.CallerStillWaiting("the caller is still in line")
        now = bank.clock()
        row.status, row.disposition, row.ended_at = "completed", disposition, now
        row.notes = (notes or "").strip()[:500] or None
        row.verify_lookup = None
        audit(uow.session, now, "wrap_up", agent_id=agent.id, handoff_id=handoff_id,
              disposition=disposition)
        uow.commit()
        return view(uow.session, row)


def audit_log(bank, *, handoff_id: int | None = None, limit: int = 200) -> list[dict]:
    with bank.unit_of_work() as uow:
        query = select(AgentAudit).order_by(AgentAudit.id.desc()).limit(limit)
        if handoff_id is not None:
            query = query.where(AgentAudit.handoff_id == handoff_id)
        return [{"agent_id": a.agent_id, "handoff_id": a.handoff_id, "action": a.action,
                 "detail": dict(a.detail or {}), "at": a.at}
                for a in uow.session.scalars(query)]
