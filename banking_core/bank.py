"""The core's interface: one object every channel holds, one method per operation.

Each method opens its own unit of work, so a channel passes primitives and gets
back plain values (`views.py`) or a `DomainError` with a stable code.
"""
from __future__ import annotations

import structlog
from sqlalchemy.orm import sessionmaker

from banking_core import (
    accounts, agent_calls, agents, auth, billers, calls, checkout, demo, domiciliation_runs,
    domiciliations, handoffs, ledger, payments,
)
from banking_core import sessions as session_store
from banking_core.db import make_engine, make_session_factory
from banking_core.policy import BankPolicy, Clock, utc_now
from banking_core.secrets import SecretHasher
from banking_core.uow import UnitOfWork


class Bank:
    def __init__(self, *, session_factory: sessionmaker, hasher: SecretHasher,
                 policy: BankPolicy | None = None, clock: Clock = utc_now, log=None,
                 sessions: "session_store.SessionStore | None" = None):
        self.session_factory = session_factory
        self.engine = session_factory.kw["bind"]
        self.hasher = hasher
        self.policy = policy or BankPolicy()
        self.clock = clock
        self.log = log or structlog.get_logger("banking_core")
        self.services = billers.ServiceCache()
        # Who is logged in, on every channel (banking_core/sessions.py).
        self.sessions = sessions or session_store.DatabaseSessionStore(self)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    # Log-in
    def authenticate(self, *, method: str, identifier: str, nip: str):
        return auth.authenticate(self, method=method, identifier=identifier, nip=nip)

    def unblock(self, *, method: str, identifier: str) -> bool:
        return auth.unblock(self, method=method, identifier=identifier)

    def principal_for_customer(self, customer_id: int, *, method: str):
        return auth.principal_for_customer(self, customer_id, method=method)

    # Accounts
    def list_accounts(self, principal):
        return accounts.list_accounts(self, principal)

    def find_account_by_last4(self, principal, last4: str):
        return accounts.find_account_by_last4(self, principal, last4)

    def get_account(self, principal, account_id: int):
        return accounts.get_account(self, principal, account_id)

    # Services
    def find_service(self, service_key: str, *, include_inactive: bool = False):
        return billers.find_service(self, service_key, include_inactive=include_inactive)

    def list_services(self):
        return billers.list_services(self)

    # Payments
    def post_payment(self, principal, **request):
        return payments.post_payment(self, principal, **request)

    def get_receipt(self, principal, folio: str):
        return payments.get_receipt(self, principal, folio)

    def list_payments(self, principal, *, limit: int = 50):
        return payments.list_payments(self, principal, limit=limit)

    def folios_by_key_prefix(self, prefix: str) -> list[str]:
        return payments.folios_by_key_prefix(self, prefix)

    # Checkout: a biller's site sends its customer with a signed request
    def open_checkout(self, fields) -> "checkout.Order":
        """Verify a biller's request and keep it (or find the same one kept)."""
        return checkout.open_checkout(self, fields)

    def checkout_order(self, principal, token: str) -> "checkout.Order":
        return checkout.order_for(self, principal, token)

    def pay_checkout(self, principal, token: str, *, account_id: int) -> "checkout.Order":
        return checkout.pay_order(self, principal, token, account_id=account_id)

    def cancel_checkout(self, principal, token: str) -> "checkout.Order":
        return checkout.cancel_order(self, principal, token)

    def checkout_result(self, order: "checkout.Order") -> dict[str, str] | None:
        return checkout.result_fields(self, order)

    # Domiciliations (docs/domiciliacion.md)
    def create_domiciliation(self, principal, request, **options):
        return domiciliations.create(self, principal, request, **options)

    def list_domiciliations(self, principal):
        return domiciliations.list_for(self, principal)

    def pause_domiciliation(self, principal, domiciliation_id: int):
        return domiciliations.pause(self, principal, domiciliation_id)

    def resume_domiciliation(self, principal, domiciliation_id: int):
        return domiciliations.resume(self, principal, domiciliation_id)

    def cancel_domiciliation(self, principal, domiciliation_id: int):
        return domiciliations.cancel(self, principal, domiciliation_id)

    def run_due(self, now=None) -> "domiciliation_runs.RunReport":
        return domiciliation_runs.run_due(self, now)

    # Hand-offs to agents: the caller's side (the IVR's webhooks)
    def open_handoff(self, request: "handoffs.HandoffRequest"):
        return handoffs.open_handoff(self, request)

    def find_handoff_by_call(self, call_sid: str):
        return handoffs.find_by_call(self, call_sid)

    def handoff_for_call(self, handoff_id: int | None, call_sid: str):
        return handoffs.get_for_call(self, handoff_id, call_sid)

    def caller_enqueued(self, call_sid: str, queue_sid: str, *, caller: str | None = None):
        handoffs.caller_enqueued(self, call_sid, queue_sid, caller=caller)

    def place_in_line(self, call_sid: str) -> int | None:
        return handoffs.place_in_line(self, call_sid)

    def caller_gone(self, call_sid: str, *, callback: bool = False):
        return handoffs.caller_gone(self, call_sid, callback=callback)

    def caller_out_of_line(self, call_sid: str) -> None:
        handoffs.caller_out_of_line(self, call_sid)

    def caller_to_agent(self, handoff_id: int, call_sid: str):
        return handoffs.caller_to_agent(self, handoff_id, call_sid)

    def caller_back_in_line(self, handoff_id: int) -> None:
        handoffs.caller_back_in_line(self, handoff_id)

    def verify_handoff_caller(self, handoff_id: int, nip: str):
        return agent_calls.verify_caller(self, handoff_id, nip)

    # ... the agent's leg and the hand-off's conference
    def agent_may_join(self, agent, handoff_id: int):
        return handoffs.agent_may_join(self, agent, handoff_id)

    def agent_leg_joined(self, agent, handoff_id: int, agent_call_sid: str) -> None:
        handoffs.agent_leg_joined(self, agent, handoff_id, agent_call_sid)

    def conference_event(self, handoff_id: int, **event):
        return handoffs.conference_event(self, handoff_id, **event)

    def agent_held(self, handoff_id: int, on_hold: bool) -> None:
        handoffs.agent_held(self, handoff_id, on_hold)

    # ... the desk's side
    def authenticate_agent(self, username: str, password: str):
        return agents.authenticate_agent(self, username, password)

    def set_agent_password(self, username: str, password: str):
        return agents.set_password(self, username, password)

    def get_agent(self, agent_id: int):
        return agents.get_agent(self, agent_id)

    def agent_for_phone(self, identity: str):
        return agents.agent_for_phone(self, identity)

    def list_handoffs(self, statuses=handoffs.OPEN_STATUSES, *, agent=None):
        return handoffs.list_handoffs(self, statuses, agent=agent)

    def take_next_handoff(self, agent):
        return agent_calls.take_next(self, agent)

    def take_callback(self, agent, handoff_id: int):
        return agent_calls.take_callback(self, agent, handoff_id)

    def release_handoff(self, agent, handoff_id: int):
        return agent_calls.release(self, agent, handoff_id)

    def get_handoff(self, agent, handoff_id: int):
        return agent_calls.get_handoff(self, agent, handoff_id)

    def current_handoff(self, agent):
        return agent_calls.current_call(self, agent)

    def request_caller_verification(self, agent, handoff_id: int, *, method: str,
                                    identifier: str):
        return agent_calls.request_verification(self, agent, handoff_id, method=method,
                                                identifier=identifier)

    def caller_sent_to_verify(self, handoff_id: int) -> None:
        agent_calls.caller_sent_to_verify(self, handoff_id)

    def handoff_principal(self, agent, handoff_id: int):
        return agent_calls.caller_principal(self, agent, handoff_id)

    def agent_pay(self, agent, handoff_id: int, **request):
        return agent_calls.pay(self, agent, handoff_id, **request)

    def wrap_up_handoff(self, agent, handoff_id: int, *, disposition: str, notes: str = ""):
        return agent_calls.wrap_up(self, agent, handoff_id, disposition=disposition, notes=notes)

    def agent_create_domiciliation(self, agent, handoff_id: int, request, *, operation: str):
        return agent_calls.create_domiciliation(self, agent, handoff_id, request,
                                                operation=operation)

    def agent_cancel_domiciliation(self, agent, handoff_id: int, domiciliation_id: int):
        return agent_calls.cancel_domiciliation(self, agent, handoff_id, domiciliation_id)

    def agent_audit(self, *, handoff_id: int | None = None, limit: int = 200):
        return agent_calls.audit_log(self, handoff_id=handoff_id, limit=limit)

    # Calls
    def record_call_end(self, end: "calls.CallEnd") -> bool:
        return calls.record_call_end(self, end)

    def call_ended(self, call_sid: str) -> bool:
        return calls.call_ended(self, call_sid)

    def call_report(self, *, since=None) -> "calls.CallReport":
        return calls.call_report(self, since=since)

    # The demo bank (a developer's front page)
    def demo_logins(self) -> "demo.DemoLogins | None":
        return demo.demo_logins(self)

    # Ledger
    def verify(self) -> ledger.VerifyReport:
        now = self.clock()
        with self.unit_of_work() as uow:
            return ledger.verify(uow.session, day_start=self.policy.start_of_local_day(now),
                                 local_date=now.astimezone(self.policy.timezone).date())


def build_bank(settings, *, engine=None, clock: Clock = utc_now) -> Bank:
    """A Bank wired from settings (engine made here unless one is given)."""
    engine = engine or make_engine(settings.database_url)
    hasher = SecretHasher(pepper=settings.nip_pepper, time_cost=settings.argon2_time_cost,
                          memory_kib=settings.argon2_memory_kib)
    bank = Bank(session_factory=make_session_factory(engine), hasher=hasher,
                policy=BankPolicy.from_settings(settings), clock=clock)
    bank.sessions = session_store.store_from_settings(bank, settings)
    return bank
