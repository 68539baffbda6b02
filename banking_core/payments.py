"""Posting a payment: exactly once, atomic, balanced.

One database transaction debits the customer's account, credits the biller's
collection account, records the payment with its folio and queues the
confirmation e-mail. The customer's account row is locked for the duration so
the balance and the daily limit are checked against what no one else can change
meanwhile; the biller's side takes no lock at all (see models.py).

Exactly-once rests on the idempotency key's unique index: a retry with the
same key finds the first payment and returns its receipt; a concurrent twin
either waits on the account lock and then finds it, or loses the race on the
unique index and, retried, finds it.
"""
from __future__ import annotations

import hashlib
import json
import time

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from banking_core import errors
from banking_core.billers import load_service
from banking_core.folios import new_folio
from banking_core.models import (
    Account, Agent, Biller, CHANNELS, Customer, Entry, OutboxMessage, Payment, Transfer,
)
from banking_core.money import format_mxn
from banking_core.views import Principal, Receipt

MAX_ATTEMPTS = 6
MAX_KEY_LENGTH = 128
# PostgreSQL's serialization failure and deadlock: safe to run the whole
# transaction again.
RETRYABLE_SQLSTATES = {"40001", "40P01"}


def request_hash(*, customer_id, channel, account_id, service_key, references, amount_centavos,
                 agent_id) -> str:
    canonical = json.dumps(
        [customer_id, channel, account_id, service_key, list(references), amount_centavos,
         agent_id],
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def post_payment(bank, principal: Principal, *, channel: str, account_id: int, service_key: str,
                 references, amount_centavos: int, idempotency_key: str,
                 agent_id: int | None = None) -> Receipt:
    if channel not in CHANNELS:
        raise errors.InvalidRequest(f"unknown channel {channel!r}")
    if not isinstance(idempotency_key, str) or not 8 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        raise errors.InvalidRequest("an idempotency key of 8 to 128 characters is required")
    if isinstance(account_id, bool) or not isinstance(account_id, int):
        raise errors.AccountNotOwned("that account is not available to you")
    if not principal.may_use(account_id):
        raise errors.AccountNotOwned("that account is not available to you")
    if channel == "agent" and agent_id is None:
        raise errors.InvalidRequest("an agent payment needs the agent's id")

    last_error = None
    for attempt in range(MAX_ATTEMPTS):
        try:
            return _post_once(
                bank, principal, channel=channel, account_id=account_id,
                service_key=service_key, references=references,
                amount_centavos=amount_centavos, idempotency_key=idempotency_key,
                agent_id=agent_id,
            )
        except IntegrityError as exc:
            # A twin with the same key won the race, or (rarely) a folio collided:
            # run again; the next attempt finds the twin or draws a new folio.
            last_error = exc
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) not in RETRYABLE_SQLSTATES:
                raise
            last_error = exc
            time.sleep(0.005 * (2**attempt))
    raise last_error


def _replay(session, idempotency_key: str, fingerprint: str, bank) -> Receipt | None:
    payment = session.scalars(
        select(Payment).where(Payment.idempotency_key == idempotency_key)
    ).one_or_none()
    if payment is None:
        return None
    if payment.request_hash != fingerprint:
        raise errors.IdempotencyConflict(
            "this idempotency key was already used for a different payment"
        )
    return receipt_for(session, bank, payment, replayed=True)


def _post_once(bank, principal, *, channel, account_id, service_key, references,
               amount_centavos, idempotency_key, agent_id) -> Receipt:
    with bank.unit_of_work() as uow:
        session = uow.session
        service = load_service(session, service_key)
        refs = tuple(str(r) for r in references)
        fingerprint = request_hash(
            customer_id=principal.customer_id, channel=channel, account_id=account_id,
            service_key=service.service_key, references=service_references(service, refs),
            amount_centavos=amount_centavos, agent_id=agent_id,
        )
        replay = _replay(session, idempotency_key, fingerprint, bank)
        if replay is not None:
            return replay

        service.require_active()
        if agent_id is not None and not session.scalar(
                select(Agent.active).where(Agent.id == agent_id)):
            raise errors.InvalidRequest("unknown or inactive agent")
        refs = service.check_references(refs)
        service.check_amount(amount_centavos)

        account = session.execute(
            select(Account).where(Account.id == account_id).with_for_update()
        ).scalar_one_or_none()
        if account is None or account.customer_id != principal.customer_id \
                or not account.is_customer_account:
            raise errors.AccountNotOwned("that account is not available to you")
        # Under the lock: a twin that held it before us has committed by now.
        replay = _replay(session, idempotency_key, fingerprint, bank)
        if replay is not None:
            return replay

        if account.balance_centavos < amount_centavos:
            raise errors.InsufficientFunds(
                "the account does not have enough funds",
                balance=account.balance_centavos, amount=amount_centavos,
            )
        now = bank.clock()
        limit = _daily_limit(account, channel, bank.policy)
        spent = int(session.execute(
            select(func.coalesce(func.sum(Payment.amount_centavos), 0)).where(
                Payment.account_id == account.id,
                Payment.channel == channel,
                Payment.posted_at >= bank.policy.start_of_local_day(now),
            )
        ).scalar_one())
        if spent + amount_centavos > limit:
            raise errors.OverDailyLimit(
                f"over the daily limit of {format_mxn(limit)} for this channel",
                limit=limit, spent=spent, available=max(limit - spent, 0),
            )

        transfer_id = session.execute(
            insert(Transfer).values(kind="payment", memo=f"servicio {service.service_key}",
                                    created_at=now).returning(Transfer.id)
        ).scalar_one()
        folio = new_folio()
        padded = list(refs) + [None] * (3 - len(refs))
        payment_id = session.execute(
            insert(Payment).values(
                folio=folio, channel=channel, customer_id=principal.customer_id,
                account_id=account.id, biller_id=service.id, reference1=padded[0],
                reference2=padded[1], reference3=padded[2], amount_centavos=amount_centavos,
                agent_id=agent_id, idempotency_key=idempotency_key,
                request_hash=fingerprint, transfer_id=transfer_id, posted_at=now,
            ).returning(Payment.id)
        ).scalar_one()
        session.execute(insert(Entry), [
            dict(transfer_id=transfer_id, account_id=account.id,
                 amount_centavos=-amount_centavos, created_at=now),
            dict(transfer_id=transfer_id, account_id=service.collection_account_id,
                 amount_centavos=amount_centavos, created_at=now),
        ])
        session.execute(
            update(Account).where(Account.id == account.id)
            .values(balance_centavos=Account.balance_centavos - amount_centavos)
        )
        receipt = Receipt(
            folio=folio, channel=channel, amount_centavos=amount_centavos, posted_at=now,
            local_posted_at=now.astimezone(bank.policy.timezone),
            service_key=service.service_key, service_name=service.name, references=refs,
            account_last4=account.last4, customer_id=principal.customer_id, agent_id=agent_id,
        )
        _queue_confirmation(session, payment_id, receipt, now)
        uow.commit()
    bank.log.info("payment_posted", folio=folio, channel=channel, amount=amount_centavos,
                  service_key=service.service_key, account_last4=account.last4)
    return receipt


def service_references(service, refs) -> list[str]:
    # The fingerprint compares references as the service would store them, so a
    # retry typed "1234-5678" matches the first "12345678".
    out = []
    for index, value in enumerate(refs):
        rule = service.references[index] if index < len(service.references) else None
        out.append(rule.normalize(value) if rule else value)
    return out


def _daily_limit(account: Account, channel: str, policy) -> int:
    own = getattr(account, f"limit_{channel}_centavos")
    return own if own is not None else policy.daily_limits[channel]


def _queue_confirmation(session, payment_id: int, receipt: Receipt, now) -> None:
    customer = session.get(Customer, receipt.customer_id)
    local = receipt.local_posted_at
    session.execute(insert(OutboxMessage).values(
        kind="payment_confirmation", payment_id=payment_id, recipient=customer.email,
        payload={
            "customer_name": customer.name,
            "folio": receipt.folio,
            "amount_centavos": receipt.amount_centavos,
            "amount": format_mxn(receipt.amount_centavos),
            "date": local.strftime("%d/%m/%Y"),
            "time": local.strftime("%H:%M:%S"),
            "service_key": receipt.service_key,
            "service_name": receipt.service_name,
            "references": list(receipt.references),
            "account_last4": receipt.account_last4,
            "channel": receipt.channel,
        },
        status="pending", attempts=0, next_attempt_at=now, created_at=now,
    ))


def receipt_for(session, bank, payment: Payment, *, replayed: bool = False) -> Receipt:
    biller = session.get(Biller, payment.biller_id)
    account = session.get(Account, payment.account_id)
    return Receipt(
        folio=payment.folio, channel=payment.channel, amount_centavos=payment.amount_centavos,
        posted_at=payment.posted_at,
        local_posted_at=payment.posted_at.astimezone(bank.policy.timezone),
        service_key=biller.service_key, service_name=biller.name,
        references=tuple(payment.references), account_last4=account.last4,
        customer_id=payment.customer_id, agent_id=payment.agent_id, replayed=replayed,
    )


def get_receipt(bank, principal: Principal, folio: str) -> Receipt:
    with bank.unit_of_work() as uow:
        payment = uow.session.scalars(
            select(Payment).where(Payment.folio == str(folio).strip())
        ).one_or_none()
        if payment is None or payment.customer_id != principal.customer_id:
            raise errors.UnknownPayment("there is no payment with that folio")
        return receipt_for(uow.session, bank, payment)


def list_payments(bank, principal: Principal, *, limit: int = 50) -> list[Receipt]:
    """The customer's payments on every channel, newest first."""
    with bank.unit_of_work() as uow:
        payments = uow.session.scalars(
            select(Payment).where(Payment.customer_id == principal.customer_id)
            .order_by(Payment.posted_at.desc(), Payment.id.desc()).limit(limit)
        ).all()
        return [receipt_for(uow.session, bank, p) for p in payments]

