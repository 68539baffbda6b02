"""The agents who work transferred calls: who they are and how they log in."""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select

from banking_core import errors
from banking_core.digits import int_or_none
from banking_core.models import Agent, AgentAudit

AGENT_LOCKOUT_FAILURES = 5
AGENT_LOCKOUT_WINDOW = dt.timedelta(minutes=15)


@dataclasses.dataclass(frozen=True)
class AgentView:
    id: int
    username: str
    name: str
    role: str

    @property
    def phone_identity(self) -> str:
        """The agent's softphone as Twilio knows it (the access token's
        identity; a call from it arrives as From=client:<identity>). Twilio's
        Voice SDK allows only letters, digits and underscores in an identity."""
        return f"agente_{self.id}"


def audit(session, now, action: str, *, agent_id=None, handoff_id=None, **detail) -> None:
    session.add(AgentAudit(agent_id=agent_id, handoff_id=handoff_id, action=action,
                           detail=detail, at=now))


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
            audit(uow.session, bank.clock(), "login_locked", agent_id=agent.id)
            uow.commit()
        bank.log.warning("agent_login_locked", agent_id=agent.id)
        raise errors.InvalidCredentials("too many failed log-ins; try later", remaining=0)
    if not bank.hasher.verify_secret(stored, password or ""):  # same time either way
        with bank.unit_of_work() as uow:
            audit(uow.session, bank.clock(), "login_failed",
                  agent_id=agent.id if agent is not None else None)
            uow.commit()
        raise errors.InvalidCredentials("unknown agent or wrong password", remaining=None)
    with bank.unit_of_work() as uow:
        audit(uow.session, bank.clock(), "login", agent_id=agent.id)
        uow.commit()
    return AgentView(id=agent.id, username=agent.username, name=agent.name, role=agent.role)


def get_agent(bank, agent_id: int) -> AgentView | None:
    with bank.unit_of_work() as uow:
        agent = uow.session.get(Agent, agent_id)
        if agent is None or not agent.active:
            return None
        return AgentView(id=agent.id, username=agent.username, name=agent.name, role=agent.role)


def agent_for_phone(bank, identity: str) -> AgentView | None:
    """The agent behind a softphone identity ("agente_<id>"), if active."""
    prefix, _, number = identity.partition("_")
    agent_id = int_or_none(number, max_length=9)
    if prefix != "agente" or agent_id is None:
        return None
    return get_agent(bank, agent_id)
