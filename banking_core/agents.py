"""The agents who work transferred calls: who they are and how they log in."""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import case, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from banking_core import errors, sessions
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
    """One entry of the agents' audit log, in the caller's transaction: an ORM
    session's, or a bare connection's (a payment's posting runs on one, and
    its audit entry must commit or roll back with it)."""
    values = dict(agent_id=agent_id, handoff_id=handoff_id, action=action, detail=detail, at=now)
    if isinstance(session, Session):
        session.add(AgentAudit(**values))
    else:
        session.execute(insert(AgentAudit).values(**values))


def authenticate_agent(bank, username: str, password: str) -> AgentView:
    """An agent's log-in. After AGENT_LOCKOUT_FAILURES consecutive failures the
    account refuses even the right password for AGENT_LOCKOUT_WINDOW: the desk
    can pay from customers' accounts.

    Counting and locking are one conditional UPDATE on the agent's row (the
    database serialises concurrent tries on its row lock, and a try that finds
    the row locked changes nothing), so no burst of parallel guesses gets more
    than the limit. Unknown, inactive, locked or wrong: the same
    `InvalidCredentials`, after the same Argon2 work, so nothing tells an
    outsider which usernames exist; `remaining=0` says "locked" to the core's
    callers that may know (the audit log has it too)."""
    username = str(username).strip()[:40]
    with bank.unit_of_work() as uow:
        agent = uow.session.execute(
            select(Agent.id, Agent.password_hash, Agent.active).where(Agent.username == username)
        ).one_or_none()
    stored = agent.password_hash if agent is not None and agent.active else None
    password_ok = bank.hasher.verify_secret(stored, password or "")  # same time either way
    now = bank.clock()
    with bank.unit_of_work() as uow:
        session = uow.session
        if agent is None:
            audit(session, now, "login_failed")
            uow.commit()
            raise errors.InvalidCredentials("unknown agent or wrong password", remaining=None)
        unlocked = or_(Agent.locked_until.is_(None), Agent.locked_until <= now)
        if password_ok:
            done = session.execute(
                update(Agent).where(Agent.id == agent.id, unlocked)
                .values(failed_logins=0, locked_until=None))
            if done.rowcount == 1:
                audit(session, now, "login", agent_id=agent.id)
                uow.commit()
                return get_agent(bank, agent.id)
        else:
            reached = Agent.failed_logins + 1 >= AGENT_LOCKOUT_FAILURES
            failures = session.execute(
                update(Agent).where(Agent.id == agent.id, unlocked)
                .values(failed_logins=case((reached, 0), else_=Agent.failed_logins + 1),
                        locked_until=case((reached, literal(now + AGENT_LOCKOUT_WINDOW,
                                                            Agent.locked_until.type)),
                                          else_=None))
                .returning(Agent.locked_until)
            ).one_or_none()
            if failures is not None:
                audit(session, now, "login_failed", agent_id=agent.id)
                uow.commit()
                if failures.locked_until is not None:
                    # Whoever guessed may be one try from in: every desk
                    # session of this agent ends now too.
                    bank.sessions.end_all(sessions.agent_principal(agent.id))
                    bank.log.warning("agent_locked_out", agent_id=agent.id)
                raise errors.InvalidCredentials("unknown agent or wrong password",
                                                remaining=None)
        audit(session, now, "login_locked", agent_id=agent.id)
        uow.commit()
    bank.log.warning("agent_login_locked", agent_id=agent.id)
    raise errors.InvalidCredentials("too many failed log-ins; try later", remaining=0)


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


MIN_PASSWORD_LENGTH = 12


def set_password(bank, username: str, password: str) -> AgentView:
    """An agent's new password. Every session the agent has open ends with the
    old one: whoever learned the old password is out at once."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise errors.InvalidRequest(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters",
            field="password")
    password_hash = bank.hasher.hash_secret(password)  # slow: outside the transaction
    with bank.unit_of_work() as uow:
        agent = uow.session.scalar(select(Agent).where(Agent.username == str(username)))
        if agent is None:
            raise errors.InvalidRequest("no such agent", field="username")
        agent.password_hash = password_hash
        audit(uow.session, bank.clock(), "password_changed", agent_id=agent.id)
        uow.commit()
        found = AgentView(id=agent.id, username=agent.username, name=agent.name, role=agent.role)
    bank.sessions.end_all(sessions.agent_principal(found.id))
    return found
