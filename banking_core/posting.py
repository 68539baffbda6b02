"""The posting step: from the account lock to the last ledger row, atomically.

Everything a payment must decide under the account's lock — is the account the
customer's, was this idempotency key already used, is there money, is the
channel's daily limit respected — and everything it writes — transfer, payment,
two entries, the cached balance, the outbox row — happens here. (The biller's
webhook, when it has a notification URL, is queued by a trigger on payments in
the same transaction, whichever path wrote the row: migration 0014.)

Two implementations of one contract, chosen by the database:
- PostgreSQL: the `ledger_post_payment` function (migration 0002), one round
  trip. Production runs here; the payment rush is bound by round trips and
  client CPU, and this is what brings a payment near the cost of pgbench's
  own bank transaction (bench/payments.py).
- Anything else (SQLite, the default for development): the same steps as
  SQLAlchemy Core statements, inside the `BEGIN IMMEDIATE` write lock.

Both run the whole integration suite (tests run on SQLite and on PostgreSQL),
so they cannot drift apart unnoticed. The rules that need no lock (references,
amounts, service state, who may use which account) are checked before, in
Python, once for both.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json

import psycopg
from sqlalchemy import insert, null, select, update
from sqlalchemy.exc import DBAPIError

from banking_core import db
from banking_core.ledger import post_transfer
from banking_core.models import Account, Biller, CHANNELS, Customer, OutboxMessage, Payment

CUSTOMER_KINDS = ("cheques", "ahorro", "nomina")


@dataclasses.dataclass(frozen=True)
class PostingRequest:
    idempotency_key: str
    request_hash: str
    customer_id: int
    account_id: int
    channel: str
    biller_id: int
    collection_account_id: int
    biller_version: int
    references: tuple[str, ...]
    amount_centavos: int
    agent_id: int | None
    folio: str
    now: dt.datetime
    local_date: dt.date
    default_limit: int
    memo: str
    # The confirmation e-mail's facts known before posting; the posting adds
    # customer_name and account_last4, which it reads under the lock.
    payload: dict


@dataclasses.dataclass(frozen=True)
class PostingResult:
    # posted | replayed | idempotency_conflict | account_not_owned |
    # insufficient_funds | over_daily_limit | stale_service
    outcome: str
    folio: str | None = None
    payment_id: int | None = None
    balance: int | None = None
    spent: int | None = None
    daily_limit: int | None = None
    account_last4: str | None = None


# Tests switch this off to run the statement path on PostgreSQL too.
FUNCTION_ENABLED = True


def uses_function(dialect_name: str) -> bool:
    return FUNCTION_ENABLED and dialect_name == "postgresql"


@contextlib.contextmanager
def connection(engine, *, more_writes: bool = False, pre_ping: bool = True):
    """The connection a payment runs on; chosen with the implementation.

    The function is one statement, atomic by itself: it runs in autocommit,
    which saves the BEGIN and COMMIT round trips (a payment's cost is mostly
    round trips). The statement path needs one explicit transaction around all
    its statements, or its row lock would end with the first one (on SQLite,
    BEGIN IMMEDIATE takes the write lock before the first read). So does a
    payment that `more_writes` must commit with (an agent's, with its audit
    row): the function then runs inside that transaction.

    `pre_ping=False` skips the pool's pre-ping round trip, on the function path
    only: there a dead connection fails the one idempotent statement, and the
    caller runs it again on a pinged connection (payments.post_payment).
    """
    if uses_function(engine.dialect.name) and not more_writes:
        with (contextlib.nullcontext() if pre_ping else db.without_pre_ping()):
            conn = engine.connect()
        with conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")
    else:
        with engine.begin() as conn:
            yield conn


def post(conn, request: PostingRequest) -> PostingResult:
    if uses_function(conn.dialect.name):
        return _post_with_function(conn, request)
    return _post_with_statements(conn, request)


_CALL = """
    SELECT o_outcome, o_folio, o_payment_id, o_balance, o_spent, o_daily_limit, o_account_last4
    FROM ledger_post_payment(
        %(key)s, %(request_hash)s, %(customer_id)s, %(account_id)s, %(channel)s,
        %(biller_id)s, %(collection_account_id)s, %(ref1)s, %(ref2)s, %(ref3)s,
        %(amount)s::bigint, %(agent_id)s, %(folio)s, %(now)s,
        %(default_limit)s::bigint, %(memo)s, %(payload)s::jsonb, %(biller_version)s,
        %(local_date)s)
"""


def _post_with_function(connection, r: PostingRequest) -> PostingResult:
    refs = list(r.references) + [None] * (3 - len(r.references))
    # Straight to psycopg on the pooled connection, as a prepared statement: the
    # payment rush is bound by client CPU per call, and this one statement is
    # the whole posting (no ORM or SQL compilation to pay for).
    driver = connection.connection.driver_connection
    params = dict(
        key=r.idempotency_key, request_hash=r.request_hash, customer_id=r.customer_id,
        account_id=r.account_id, channel=r.channel, biller_id=r.biller_id,
        collection_account_id=r.collection_account_id, ref1=refs[0], ref2=refs[1],
        ref3=refs[2], amount=r.amount_centavos, agent_id=r.agent_id, folio=r.folio,
        now=r.now, default_limit=r.default_limit, memo=r.memo,
        payload=json.dumps(r.payload), biller_version=r.biller_version,
        local_date=r.local_date,
    )
    # One cursor per pooled connection, kept in the pool's info dict for the
    # DBAPI connection's lifetime: a new cursor would look up, again, how to
    # send each of the 19 parameters and read each of the 7 columns.
    info = connection.connection.info
    cursor = info.get("ledger_post_payment_cursor")
    if cursor is None or cursor.closed:
        cursor = info["ledger_post_payment_cursor"] = driver.cursor()
    try:
        row = cursor.execute(_CALL, params, prepare=True).fetchone()
    except psycopg.Error as exc:
        # Raise what SQLAlchemy would have raised, so the caller's retries (a
        # folio collision, a serialization failure, a dropped connection) and
        # the pool's invalidation work the same on both paths.
        lost = driver.closed or driver.broken
        if lost:
            connection.invalidate(exc)
        raise DBAPIError.instance(_CALL, None, exc, psycopg.Error,
                                  connection_invalidated=lost) from exc
    return PostingResult(*row)


def _post_with_statements(connection, r: PostingRequest) -> PostingResult:
    current = connection.execute(
        select(Biller.id).where(Biller.id == r.biller_id, Biller.version == r.biller_version)
    ).one_or_none()
    if current is None:
        return PostingResult("stale_service")
    # A domiciliation's charges have no per-account limit: the bank's default.
    limit_column = {"phone": Account.limit_phone_centavos, "web": Account.limit_web_centavos,
                    "agent": Account.limit_agent_centavos}.get(r.channel, null())
    account = connection.execute(
        select(Account.customer_id, Account.kind, Account.number, Account.balance_centavos,
               limit_column.label("own_limit"), Account.spent_on, Account.spent_phone_centavos,
               Account.spent_web_centavos, Account.spent_agent_centavos,
               Account.spent_domiciliacion_centavos, Customer.name, Customer.email)
        .join(Customer, Customer.id == Account.customer_id)
        .where(Account.id == r.account_id).with_for_update(of=Account)
    ).one_or_none()
    if account is None or account.customer_id != r.customer_id \
            or account.kind not in CUSTOMER_KINDS:
        return PostingResult("account_not_owned")
    last4 = account.number[-4:]

    # Under the lock: a twin that held it before us has committed by now.
    existing = connection.execute(
        select(Payment.id, Payment.folio, Payment.request_hash)
        .where(Payment.idempotency_key == r.idempotency_key)
    ).one_or_none()
    if existing is not None:
        outcome = "replayed" if existing.request_hash == r.request_hash \
            else "idempotency_conflict"
        return PostingResult(outcome, existing.folio, existing.id, account_last4=last4)

    balance = account.balance_centavos
    if balance < r.amount_centavos:
        return PostingResult("insufficient_funds", balance=balance, account_last4=last4)
    daily_limit = account.own_limit if account.own_limit is not None else r.default_limit
    # The day's running totals live on the locked row (see models.Account).
    today = {c: (getattr(account, f"spent_{c}_centavos") if account.spent_on == r.local_date
                 else 0) for c in CHANNELS}
    spent = today[r.channel]
    if spent + r.amount_centavos > daily_limit:
        return PostingResult("over_daily_limit", spent=spent, daily_limit=daily_limit,
                             account_last4=last4)

    # The transfer, both entries and the customer's cached balance; the
    # database's no-overdraft check stays the last line of defence.
    transfer_id = post_transfer(
        connection, kind="payment", memo=r.memo, now=r.now,
        legs=[(r.account_id, -r.amount_centavos), (r.collection_account_id, r.amount_centavos)])
    refs = list(r.references) + [None] * (3 - len(r.references))
    payment_id = connection.execute(
        insert(Payment).values(
            folio=r.folio, channel=r.channel, customer_id=r.customer_id,
            account_id=r.account_id, biller_id=r.biller_id, reference1=refs[0],
            reference2=refs[1], reference3=refs[2], amount_centavos=r.amount_centavos,
            agent_id=r.agent_id, idempotency_key=r.idempotency_key,
            request_hash=r.request_hash, transfer_id=transfer_id, posted_at=r.now,
        ).returning(Payment.id)
    ).scalar_one()
    today[r.channel] += r.amount_centavos
    connection.execute(
        update(Account).where(Account.id == r.account_id)
        .values(spent_on=r.local_date, spent_phone_centavos=today["phone"],
                spent_web_centavos=today["web"], spent_agent_centavos=today["agent"],
                spent_domiciliacion_centavos=today["domiciliacion"])
    )
    connection.execute(insert(OutboxMessage).values(
        kind="payment_confirmation", payment_id=payment_id, recipient=account.email,
        payload={**r.payload, "customer_name": account.name, "account_last4": last4},
        status="pending", attempts=0, next_attempt_at=r.now, created_at=r.now,
    ))
    return PostingResult("posted", r.folio, payment_id, balance - r.amount_centavos,
                         spent, daily_limit, last4)
