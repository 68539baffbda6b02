"""Calls handed from the IVR to the agents, and what agents do with them.

A hand-off is opened when the IVR transfers a call, with the context the agent
needs (the screen pop); an agent takes the next waiting call (two agents never
take the same one), verifies a caller who never logged in (the agent keys the
card or account number; the caller keys the NIP on the phone, never to the
agent), pays through the same core with channel "agent", and wraps up with a
disposition. Every agent action is written to the audit log.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from banking_core import auth, errors
from banking_core.models import Agent, AgentAudit, Customer, Handoff
from banking_core.views import Principal

OPEN_STATUSES = ("waiting", "taken")
DISPOSITIONS = {
    "pago_realizado": "Pago realizado",
    "consulta_resuelta": "Consulta resuelta",
    "cliente_no_verificado": "Cliente no verificado",
    "cliente_colgo": "El cliente colgó",
    "transferido": "Transferido a otra área",
    "otro": "Otro",
}
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
    taken_at: dt.datetime | None

    @property
    def verified(self) -> bool:
        return self.customer_id is not None


@dataclasses.dataclass(frozen=True)
class AgentView:
    id: int
    username: str
    name: str
    role: str


def _view(session, row: Handoff) -> HandoffView:
    customer = session.get(Customer, row.customer_id) if row.customer_id else None
    agent = session.get(Agent, row.agent_id) if row.agent_id else None
    return HandoffView(
        id=row.id, call_sid=row.call_sid, caller=row.caller, reason=row.reason,
        status=row.status, customer_id=row.customer_id,
        customer_name=customer.name if customer else None, login_method=row.login_method,
        keyed=dict(row.keyed or {}), verify_method=row.verify_method,
        verify_last4=row.verify_last4, agent_id=row.agent_id,
        agent_name=agent.name if agent else None, folios=tuple(row.folios or ()),
        disposition=row.disposition, created_at=row.created_at, taken_at=row.taken_at)


def _audit(session, now, action: str, *, agent_id=None, handoff_id=None, **detail) -> None:
    session.add(AgentAudit(agent_id=agent_id, handoff_id=handoff_id, action=action,
                           detail=detail, at=now))


# ---- the IVR's side -------------------------------------------------------
def open_handoff(bank, request: HandoffRequest) -> HandoffView:
    """Idempotent per call: a repeated transfer of one call is one hand-off."""
    keyed = {k: v for k, v in request.keyed.items() if k in KEYED_FIELDS and v not in (None, "")}
    with bank.unit_of_work() as uow:
        found = uow.session.scalar(select(Handoff).where(Handoff.call_sid == request.call_sid))
        if found is None:
            found = Handoff(call_sid=request.call_sid, caller=request.caller,
                            reason=request.reason, status="waiting",
                            customer_id=request.customer_id, login_method=request.login_method,
                            account_ids=sorted(request.account_ids), keyed=keyed,
                            folios=[], created_at=bank.clock())
            uow.session.add(found)
            try:
                uow.commit()
            except IntegrityError:  # a concurrent twin of this transfer won
                uow.rollback()
                found = uow.session.scalar(
                    select(Handoff).where(Handoff.call_sid == request.call_sid))
        return _view(uow.session, found)


def find_by_call(bank, call_sid: str) -> HandoffView | None:
    with bank.unit_of_work() as uow:
        row = uow.session.scalar(select(Handoff).where(Handoff.call_sid == call_sid))
        return _view(uow.session, row) if row else None


def caller_left(bank, call_sid: str, *, callback: bool = False) -> None:
    """The caller left the queue (hung up, or timed out and maybe asked for a call back)."""
    with bank.unit_of_work() as uow:
        uow.session.execute(
            update(Handoff).where(Handoff.call_sid == call_sid, Handoff.status == "waiting")
            .values(status="callback" if callback else "abandoned", ended_at=bank.clock()))
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
        _audit(uow.session, bank.clock(), "caller_verified", agent_id=agent_id,
               handoff_id=handoff_id, method=method)
        uow.commit()
        return _view(uow.session, row)


# ---- the desk's side ------------------------------------------------------
AGENT_LOCKOUT_FAILURES = 5
AGENT_LOCKOUT_WINDOW = dt.timedelta(minutes=15)


def authenticate_agent(bank, username: str, password: str) -> AgentView:
    """An agent's log-in. After AGENT_LOCKOUT_FAILURES failures within
    AGENT_LOCKOUT_WINDOW the account refuses even the right password until the
    window has passed: the desk can pay from customers' accounts."""
    username = str(username).strip()[:40]
    with bank.unit_of_work() as uow:
        agent = uow.session.scalar(select(Agent).where(Agent.username == username))
        stored = agent.password_hash if agent is not None and agent.active else None
        locked = agent is not None and uow.session.scalar(
            select(func.count()).select_from(AgentAudit).where(
                AgentAudit.agent_id == agent.id, AgentAudit.action == "login_failed",
                AgentAudit.at >= bank.clock() - AGENT_LOCKOUT_WINDOW,
                AgentAudit.id > func.coalesce(select(func.max(AgentAudit.id)).where(
                    AgentAudit.agent_id == agent.id, AgentAudit.action == "login")
                    .scalar_subquery(), 0))) >= AGENT_LOCKOUT_FAILURES
    if locked:
        bank.hasher.verify_secret(None, password or "")  # same time as a real check
        with bank.unit_of_work() as uow:
            _audit(uow.session, bank.clock(), "login_locked", agent_id=agent.id)
            uow.commit()
        bank.log.warning("agent_login_locked", agent_id=agent.id)
        raise errors.InvalidCredentials("too many failed log-ins; try later", remaining=0)
    if not bank.hasher.verify_secret(stored, password or ""):  # same time either way
        with bank.unit_of_work() as uow:
            _audit(uow.session, bank.clock(), "login_failed",
                   agent_id=agent.id if agent is not None else None)
            uow.commit()
        raise errors.InvalidCredentials("unknown agent or wrong password", remaining=None)
    with bank.unit_of_work() as uow:
        _audit(uow.session, bank.clock(), "login", agent_id=agent.id)
        uow.commit()
    return AgentView(id=agent.id, username=agent.username, name=agent.name, role=agent.role)


def get_agent(bank, agent_id: int) -> AgentView | None:
    with bank.unit_of_work() as uow:
        agent = uow.session.get(Agent, agent_id)
        if agent is None or not agent.active:
            return None
        return AgentView(id=agent.id, username=agent.username, name=agent.name, role=agent.role)


def list_handoffs(bank, statuses=OPEN_STATUSES) -> list[HandoffView]:
    with bank.unit_of_work() as uow:
        rows = uow.session.scalars(
            select(Handoff).where(Handoff.status.in_(statuses))
            .order_by(Handoff.created_at, Handoff.id)).all()
        return [_view(uow.session, r) for r in rows]


def take_next(bank, agent: AgentView) -> HandoffView:
    """The longest-waiting call, taken by this agent. The conditional UPDATE is
    the arbiter: of two agents racing for one call, exactly one changes the row;
    the other moves on to the next call, or hears that none is waiting."""
    while True:
        with bank.unit_of_work() as uow:
            candidate = uow.session.scalar(
                select(Handoff.id).where(Handoff.status == "waiting")
                .order_by(Handoff.created_at, Handoff.id).limit(1))
            if candidate is None:
                raise errors.NoCallWaiting("no call is waiting")
            now = bank.clock()
            done = uow.session.execute(
                update(Handoff).where(Handoff.id == candidate, Handoff.status == "waiting")
                .values(status="taken", agent_id=agent.id, taken_at=now))
            if done.rowcount != 1:
                continue  # another agent took it first
            _audit(uow.session, now, "take", agent_id=agent.id, handoff_id=candidate)
            uow.commit()
            return _view(uow.session, uow.session.get(Handoff, candidate))


def take_callback(bank, agent: AgentView, handoff_id: int) -> HandoffView:
    """A call-back request, taken by the agent who will phone the customer."""
    with bank.unit_of_work() as uow:
        now = bank.clock()
        done = uow.session.execute(
            update(Handoff).where(Handoff.id == handoff_id, Handoff.status == "callback")
            .values(status="taken", agent_id=agent.id, taken_at=now))
        if done.rowcount != 1:
            raise errors.HandoffUnavailable("no such call-back is waiting")
        _audit(uow.session, now, "take_callback", agent_id=agent.id, handoff_id=handoff_id)
        uow.commit()
        return _view(uow.session, uow.session.get(Handoff, handoff_id))


def _owned(session, agent: AgentView, handoff_id: int) -> Handoff:
    row = session.get(Handoff, handoff_id)
    if row is None or row.agent_id != agent.id or row.status != "taken":
        raise errors.HandoffUnavailable("this call is not yours to work on")
    return row


def get_handoff(bank, agent: AgentView, handoff_id: int) -> HandoffView:
    with bank.unit_of_work() as uow:
        row = uow.session.get(Handoff, handoff_id)
        if row is None or (row.agent_id not in (None, agent.id) and agent.role != "supervisor"):
            raise errors.HandoffUnavailable("this call is not yours to see")
        return _view(uow.session, row)


def request_verification(bank, agent: AgentView, handoff_id: int, *, method: str,
                         identifier: str) -> HandoffView:
    """The agent keyed the caller's card or account number; the caller will key
    the NIP on the phone. Only the keyed hash and the last 4 are kept."""
    if method not in ("card", "account"):
        raise errors.MalformedCredential("verify by card or account number", method=method)
    ident = auth.normalize_identifier(method, identifier)
    with bank.unit_of_work() as uow:
        row = _owned(uow.session, agent, handoff_id)
        row.verify_method, row.verify_last4 = method, ident[-4:]
        row.verify_lookup = bank.hasher.lookup_hash(method, ident)
        _audit(uow.session, bank.clock(), "verification_requested", agent_id=agent.id,
               handoff_id=handoff_id, method=method, last4=ident[-4:])
        uow.commit()
        return _view(uow.session, row)


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
    principal = caller_principal(bank, agent, handoff_id)
    try:
        receipt = bank.post_payment(
            principal, channel="agent", agent_id=agent.id, account_id=account_id,
            service_key=service_key, references=references, amount_centavos=amount_centavos,
            idempotency_key=f"agent:{handoff_id}:{operation}")
    except errors.DomainError as exc:
        with bank.unit_of_work() as uow:
            _audit(uow.session, bank.clock(), "payment_refused", agent_id=agent.id,
                   handoff_id=handoff_id, code=exc.code, service_key=str(service_key)[:8])
            uow.commit()
        raise
    with bank.unit_of_work() as uow:
        row = uow.session.get(Handoff, handoff_id)
        if receipt.folio not in (row.folios or []):
            row.folios = [*(row.folios or []), receipt.folio]
            _audit(uow.session, bank.clock(), "payment_posted", agent_id=agent.id,
                   handoff_id=handoff_id, folio=receipt.folio, amount=amount_centavos)
            uow.commit()
    return receipt


def wrap_up(bank, agent: AgentView, handoff_id: int, *, disposition: str,
            notes: str = "") -> HandoffView:
    if disposition not in DISPOSITIONS:
        raise errors.InvalidRequest(f"unknown disposition {disposition!r}")
    with bank.unit_of_work() as uow:
        row = _owned(uow.session, agent, handoff_id)
        now = bank.clock()
        row.status, row.disposition, row.ended_at = "completed", disposition, now
        row.notes = (notes or "").strip()[:500] or None
        row.verify_lookup = None
        _audit(uow.session, now, "wrap_up", agent_id=agent.id, handoff_id=handoff_id,
               disposition=disposition)
        uow.commit()
        return _view(uow.session, row)


def audit_log(bank, *, handoff_id: int | None = None, limit: int = 200) -> list[dict]:
    with bank.unit_of_work() as uow:
        query = select(AgentAudit).order_by(AgentAudit.id.desc()).limit(limit)
        if handoff_id is not None:
            query = query.where(AgentAudit.handoff_id == handoff_id)
        return [{"agent_id": a.agent_id, "handoff_id": a.handoff_id, "action": a.action,
                 "detail": dict(a.detail or {}), "at": a.at}
                for a in uow.session.scalars(query)]
