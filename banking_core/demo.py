"""The demo bank's log-ins, for a developer's front page: shown only while the
bank really holds them, so a bank loaded with real customers, or one where a
demo password was changed, never gets a password printed next to its URL."""
from __future__ import annotations

import dataclasses
import functools

from sqlalchemy import select

from banking_core.loader import DEMO_BANK, parse_bank_file
from banking_core.models import Agent, Credential


@dataclasses.dataclass(frozen=True)
class DemoLogins:
    access_key: str  # the first demo customer's, with its NIP (the web password)
    nip: str
    agent: str  # the first demo agent's username and password
    agent_password: str


@functools.cache
def _written() -> DemoLogins:
    """What banking_core/demo_bank.yaml says, so the two never disagree."""
    demo = parse_bank_file(DEMO_BANK.read_text(encoding="utf-8"), source=str(DEMO_BANK))
    customer = next(c for c in demo.customers if c.access_key is not None)
    agent = demo.agents[0]
    return DemoLogins(access_key=customer.access_key.number, nip=customer.access_key.nip,
                      agent=agent.username, agent_password=agent.password)


def demo_logins(bank) -> DemoLogins | None:
    """The demo log-ins if each of them works in this bank as written (not
    blocked, agent active), else None. Checking them costs two slow hashes and
    counts no failure: a front page must not lock anyone out."""
    logins = _written()
    lookup = bank.hasher.lookup_hash("access_key", logins.access_key)
    with bank.unit_of_work() as uow:
        customer = uow.session.execute(
            select(Credential.secret_hash, Credential.blocked_at)
            .where(Credential.kind == "access_key", Credential.lookup_hash == lookup)
        ).one_or_none()
        agent_hash = uow.session.scalar(
            select(Agent.password_hash).where(Agent.username == logins.agent, Agent.active))
    if customer is None or customer.blocked_at is not None or agent_hash is None:
        return None
    if not (bank.hasher.verify_secret(customer.secret_hash, logins.nip)
            and bank.hasher.verify_secret(agent_hash, logins.agent_password)):
        return None
    return logins
