"""Posting a payment: exactly once, atomic, balanced.

The rules that need no lock are checked here, in Python, for every channel: the
service exists and is active, the references and amount pass its rules, the
session may use the account. Then `posting.post` does, in one transaction and
under the customer account's row lock, everything else (see posting.py).

Exactly-once rests on the idempotency key's unique index: a retry with the same
key finds the first payment and returns its receipt; a concurrent twin waits on
the account lock and then finds it, or, paying from another account, loses on
the unique index and, retried, finds it.
"""
from __future__ import annotations

import hashlib
import json
import time

from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from banking_core import accounts, errors, posting
from banking_core.billers import load_service
from banking_core.catalog import normalize_service_key
from banking_core.folios import new_folio
from banking_core.models import Account, Agent, Biller, CHANNELS, Payment
from banking_core.money import format_mxn
from banking_core.views import Principal, Receipt

MAX_ATTEMPTS = 6
MAX_KEY_LENGTH = 128
# PostgreSQL's serialization failure and deadlock: safe to run the whole
# transaction again.
RETRYABLE_SQLSTATES = {"40001", "40P01"}


# json.dumps with any non-default option builds a new encoder at every call.
_canonical_json = json.JSONEncoder(separators=(",", ":")).encode


def request_hash(*, customer_id, channel, account_id, service_key, references, amount_centavos,
                 agent_id) -> str:
    canonical = _canonical_json(
        [customer_id, channel, account_id, service_key, list(references), amount_centavos,
         agent_id])
    return hashlib.sha256(canonical.encode()).hexdigest()


def post_payment(bank, principal: Principal, *, channel: str, account_id: int, service_key: str,
                 references, amount_centavos: int, idempotency_key: str,
                 agent_id: int | None = None, with_payment=None) -> Receipt:
    """`with_payment(connection, receipt)`, if given, writes what must commit
    with a new payment or not at all (an agent's audit row): it runs in the
    posting's transaction, once, when the payment is posted (a retry that
    finds the payment already posted finds those writes committed with it)."""
    if channel not in CHANNELS:
        raise errors.InvalidRequest(f"unknown channel {channel!r}")
    if not isinstance(idempotency_key, str) or not 8 <= len(idempotency_key) <= MAX_KEY_LENGTH:
        raise errors.InvalidRequest("an idempotency key of 8 to 128 characters is required")
    if isinstance(account_id, bool) or not isinstance(account_id, int) \
            or not principal.may_use(account_id):
        raise accounts.refuse_account(bank, principal, account_id, channel=channel)
    if channel == "agent" and agent_id is None:
        raise errors.InvalidRequest("an agent payment needs the agent's id")
    references = tuple(str(r) for r in references)

    last_error = None
    for attempt in range(MAX_ATTEMPTS):
        try:
            # The first attempt trusts the pooled connection (no pre-ping round
            # trip); one found dead fails that attempt, and the next ones check
            # their connection first.
            return _post_once(bank, principal, channel=channel, account_id=account_id,
                              service_key=service_key, references=references,
                              amount_centavos=amount_centavos,
                              idempotency_key=idempotency_key, agent_id=agent_id,
                              with_payment=with_payment, pre_ping=attempt > 0)
        except _StaleService:
            # The cached service changed meanwhile: the cache was refreshed; again.
            last_error = errors.InvalidRequest("the service kept changing; try again")
        except IntegrityError as exc:
            # A twin with the same key won the race, or (rarely) a folio collided:
            # run again; the next attempt finds the twin or draws a new folio.
            last_error = exc
        except DBAPIError as exc:
            # A pooled connection the server dropped (restart, failover) is
            # invalidated by the pool; nothing was posted on it, so try again.
            if not exc.connection_invalidated \
                    and getattr(exc.orig, "sqlstate", None) not in RETRYABLE_SQLSTATES:
                raise
            last_error = exc
            time.sleep(0.005 * (2**attempt))
    raise last_error


def _post_once(bank, principal, *, channel, account_id, service_key, references,
               amount_centavos, idempotency_key, agent_id, with_payment,
               pre_ping=True) -> Receipt:
    with posting.connection(bank.engine, more_writes=with_payment is not None,
                            pre_ping=pre_ping) as connection:
        service = _service(bank, connection, service_key)
        fingerprint = request_hash(
            customer_id=principal.customer_id, channel=channel, account_id=account_id,
            service_key=service.service_key,
            references=_as_stored(service, references), amount_centavos=amount_centavos,
            agent_id=agent_id,
        )
        # An exact retry gets its first answer back even if, since, the service
        # was switched off or its rules changed: the rules are checked in the
        # posting only for new payments.
        checked = _check(connection, service, references, amount_centavos, agent_id)
        if isinstance(checked, errors.DomainError) \
                and not isinstance(checked, errors.InvalidRequest):
            # A refusal drawn from the cache is believed only once the database agrees.
            service = load_service(connection, service_key)
            bank.services.put(service)
            checked = _check(connection, service, references, amount_centavos, agent_id)
        if isinstance(checked, errors.DomainError):
            replay = _find_replay(connection, bank, idempotency_key, fingerprint)
            if replay is not None:
                return replay
            raise checked

        now = bank.clock()
        local = now.astimezone(bank.policy.timezone)
        folio = new_folio()
        result = posting.post(connection, posting.PostingRequest(
            idempotency_key=idempotency_key, request_hash=fingerprint,
            customer_id=principal.customer_id, account_id=account_id, channel=channel,
            biller_id=service.id, collection_account_id=service.collection_account_id,
            biller_version=service.version, references=checked, amount_centavos=amount_centavos, agent_id=agent_id,
            folio=folio, now=now, local_date=local.date(),
            default_limit=bank.policy.daily_limits[channel],
            memo=f"servicio {service.service_key}",
            payload={
                "folio": folio, "amount_centavos": amount_centavos,
                "amount": format_mxn(amount_centavos), "date": local.strftime("%d/%m/%Y"),
                "time": local.strftime("%H:%M:%S"), "service_key": service.service_key,
                "service_name": service.name, "references": list(checked),
                "channel": channel,
            },
        ))
        if result.outcome == "stale_service":
            bank.services.evict(service.service_key)
            raise _StaleService()
        if result.outcome == "replayed":
            return receipt_for(connection, bank, result.payment_id, replayed=True)
        if result.outcome != "posted":
            raise _refusal(result)
        receipt = Receipt(
            folio=folio, channel=channel, amount_centavos=amount_centavos, posted_at=now,
            local_posted_at=local, service_key=service.service_key, service_name=service.name,
            references=checked, account_last4=result.account_last4,
            customer_id=principal.customer_id, agent_id=agent_id,
        )
        if with_payment is not None:
            with_payment(connection, receipt)
    bank.log.info("payment_posted", folio=folio, channel=channel, amount=amount_centavos,
                  service_key=service.service_key, account_last4=result.account_last4)
    return receipt


class _StaleService(Exception):
    """The posting refused a cached service definition that is out of date."""


def _service(bank, connection, service_key):
    """The cached service if there is one (saving a round trip on the busiest
    path), else the database's; unknown keys are never cached."""
    cached = bank.services.get(normalize_service_key(service_key))
    if cached is not None:
        return cached
    service = load_service(connection, service_key)
    bank.services.put(service)
    return service


def _check(connection, service, references, amount_centavos, agent_id):
    """The normalized references, or the DomainError that refuses the payment."""
    try:
        service.require_active()
        if agent_id is not None and not connection.execute(
                select(Agent.active).where(Agent.id == agent_id)).scalar():
            raise errors.InvalidRequest("unknown or inactive agent")
        checked = service.check_references(references)
        service.check_amount(amount_centavos)
        return checked
    except errors.DomainError as exc:
        return exc


def _find_replay(connection, bank, idempotency_key, fingerprint) -> Receipt | None:
    found = connection.execute(
        select(Payment.id, Payment.request_hash)
        .where(Payment.idempotency_key == idempotency_key)
    ).one_or_none()
    if found is None:
        return None
    if found.request_hash != fingerprint:
        raise errors.IdempotencyConflict(
            "this idempotency key was already used for a different payment")
    return receipt_for(connection, bank, found.id, replayed=True)


def _refusal(result: posting.PostingResult) -> errors.DomainError:
    if result.outcome == "account_not_owned":
        return errors.AccountNotOwned("that account is not available to you")
    if result.outcome == "idempotency_conflict":
        return errors.IdempotencyConflict(
            "this idempotency key was already used for a different payment")
    if result.outcome == "insufficient_funds":
        return errors.InsufficientFunds("the account does not have enough funds",
                                        balance=result.balance)
    if result.outcome == "over_daily_limit":
        return errors.OverDailyLimit(
            f"over the daily limit of {format_mxn(result.daily_limit)} for this channel",
            limit=result.daily_limit, spent=result.spent,
            available=max(result.daily_limit - result.spent, 0))
    raise AssertionError(f"unknown posting outcome {result.outcome!r}")


def _as_stored(service, references) -> list[str]:
    # The fingerprint compares references as the service stores them, so a
    # retry typed "1234-5678" matches the first "12345678".
    out = []
    for index, value in enumerate(references):
        rule = service.references[index] if index < len(service.references) else None
        out.append(rule.normalize(value) if rule else value)
    return out


_RECEIPT = (
    select(Payment.folio, Payment.channel, Payment.amount_centavos, Payment.posted_at,
           Payment.reference1, Payment.reference2, Payment.reference3, Payment.customer_id,
           Payment.agent_id, Biller.service_key, Biller.name.label("service_name"),
           Account.number)
    .join(Biller, Biller.id == Payment.biller_id)
    .join(Account, Account.id == Payment.account_id)
)


def _receipt(row, bank, *, replayed=False) -> Receipt:
    return Receipt(
        folio=row.folio, channel=row.channel, amount_centavos=row.amount_centavos,
        posted_at=row.posted_at, local_posted_at=row.posted_at.astimezone(bank.policy.timezone),
        service_key=row.service_key, service_name=row.service_name,
        references=tuple(r for r in (row.reference1, row.reference2, row.reference3)
                         if r is not None),
        account_last4=row.number[-4:], customer_id=row.customer_id, agent_id=row.agent_id,
        replayed=replayed,
    )


def receipt_for(executor, bank, payment_id: int, *, replayed: bool = False) -> Receipt:
    row = executor.execute(_RECEIPT.where(Payment.id == bindparam("id")),
                           {"id": payment_id}).one()
    return _receipt(row, bank, replayed=replayed)


def _visible_to(principal: Principal):
    """The payments a log-in may see: its customer's, from the accounts it may
    use. A card or account-number log-in reaches one account, so it sees that
    account's payments only, never its owner's others."""
    return (Payment.customer_id == principal.customer_id) \
        & Payment.account_id.in_(sorted(principal.account_ids))


def get_receipt(bank, principal: Principal, folio: str) -> Receipt:
    with bank.engine.connect() as connection:
        row = connection.execute(_RECEIPT.where(Payment.folio == str(folio).strip(),
                                                _visible_to(principal))).one_or_none()
    if row is None:  # no such folio, or not this log-in's to see: the same answer
        raise errors.UnknownPayment("there is no payment with that folio")
    return _receipt(row, bank)


def list_payments(bank, principal: Principal, *, limit: int = 50) -> list[Receipt]:
    """The payments from the log-in's accounts, on every channel, newest first."""
    with bank.engine.connect() as connection:
        rows = connection.execute(
            _RECEIPT.where(_visible_to(principal))
            .order_by(Payment.posted_at.desc(), Payment.id.desc()).limit(limit)
        ).all()
    return [_receipt(row, bank) for row in rows]


def folios_by_key_prefix(bank, prefix: str) -> list[str]:
    """The folios of the payments whose idempotency key begins with `prefix`,
    oldest first: what one operation of a channel posted (a phone call's
    payments, when the call lost its own account of them). The bank's record of
    the keys is what says whether a payment posted, never a channel's memory.
    A prefix match cannot use the key's index under every collation: this is
    for the rare call that lost its state, not for a turn's path."""
    if not 8 <= len(prefix) <= MAX_KEY_LENGTH:
        raise errors.InvalidRequest("a key prefix of 8 to 128 characters is required")
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    with bank.engine.connect() as connection:
        return list(connection.scalars(
            select(Payment.folio).where(Payment.idempotency_key.like(pattern, escape="\\"))
            .order_by(Payment.id)))


def latest_payments(bank, *, limit: int = 50) -> list[Receipt]:
    """Every customer's latest payments, newest first: the operators' view."""
    with bank.engine.connect() as connection:
        rows = connection.execute(
            _RECEIPT.order_by(Payment.id.desc()).limit(limit)).all()
    return [_receipt(row, bank) for row in rows]
