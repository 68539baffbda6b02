"""The bank's tables. Money columns are BIGINT centavos; times are UTC.

Ledger conventions: every movement of money is a `Transfer` whose `Entry` rows
sum to zero. An entry's amount is signed from its account's point of view
(positive raises the balance). A customer account keeps a cached
`balance_centavos`, locked and updated with each entry, so the no-overdraft rule
is checked under a row lock. Internal accounts (a biller's collection account,
the bank's capital) keep no cached balance: their balance is the sum of their
entries, so thousands of payments to one biller on its due date never queue on
one hot row.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, MetaData,
    String, Text, UniqueConstraint, JSON, false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from banking_core.checkdigits import DIGITS_ONLY_RULES, MIN_CHECKED_LENGTH, REFERENCE_RULES

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

CUSTOMER_ACCOUNT_KINDS = ("cheques", "ahorro", "nomina")
INTERNAL_ACCOUNT_KINDS = ("collection", "capital")
# Each with its own daily limit and running total on the account row. A
# domiciliation's monthly charges post as "domiciliacion" (ASCII: the code is
# also part of setting and column names; the pages say "domiciliación").
CHANNELS = ("phone", "web", "agent", "domiciliacion")
CREDENTIAL_KINDS = ("access_key", "card", "account")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, also on SQLite (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    accounts: Mapped[list["Account"]] = relationship(back_populates="customer")


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(
            "balance_centavos IS NULL OR balance_centavos >= 0", name="no_overdraft"
        ),
        CheckConstraint(
            "kind IN ('cheques','ahorro','nomina','collection','capital')", name="kind"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    clabe: Mapped[str | None] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(120))
    balance_centavos: Mapped[int | None] = mapped_column(BigInteger)
    limit_phone_centavos: Mapped[int | None] = mapped_column(BigInteger)
    limit_web_centavos: Mapped[int | None] = mapped_column(BigInteger)
    limit_agent_centavos: Mapped[int | None] = mapped_column(BigInteger)
    # The day's running totals per channel, kept under the
    # same row lock as the balance; `spent_on` is the bank-local day they count
    # (a new day starts them at zero), so the daily limit reads no payments.
    spent_on: Mapped[dt.date | None] = mapped_column(Date)
    spent_phone_centavos: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    spent_web_centavos: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    spent_agent_centavos: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    spent_domiciliacion_centavos: Mapped[int] = mapped_column(BigInteger, default=0,
                                                              server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    customer: Mapped[Customer | None] = relationship(back_populates="accounts")

    @property
    def last4(self) -> str:
        return self.number[-4:]


class Credential(Base):
    __tablename__ = "credentials"
    __table_args__ = (
        UniqueConstraint("kind", "lookup_hash", name="uq_credentials_kind_lookup"),
        CheckConstraint("kind IN ('access_key','card','account')", name="kind"),
        CheckConstraint("failed_attempts >= 0", name="failed_attempts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Keyed hash (HMAC with the server pepper) of the identifier: lets us find
    # the credential without keeping a card number or access key in clear.
    lookup_hash: Mapped[str] = mapped_column(String(64))
    last4: Mapped[str] = mapped_column(String(4))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    secret_hash: Mapped[str] = mapped_column(String(255))  # Argon2id of the peppered NIP
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    blocked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    blocked_reason: Mapped[str | None] = mapped_column(String(64))
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Biller(Base):
    __tablename__ = "billers"
    __table_args__ = (
        CheckConstraint(
            "(amount_fixed_centavos IS NOT NULL) OR "
            "(amount_min_centavos IS NOT NULL AND amount_max_centavos IS NOT NULL "
            "AND amount_min_centavos <= amount_max_centavos)",
            name="amount_rule",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_key: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    collection_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    amount_min_centavos: Mapped[int | None] = mapped_column(BigInteger)
    amount_max_centavos: Mapped[int | None] = mapped_column(BigInteger)
    amount_fixed_centavos: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Where each payment to this biller is announced (a signed webhook through
    # the outbox), and the origins its checkout may send a customer back to.
    notification_url: Mapped[str | None] = mapped_column(String(500))
    return_origins: Mapped[list | None] = mapped_column(JSON)
    # Bumped by database triggers on any change to the biller or its references
    # (migration 0001): lets processes cache services and detect stale copies.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    references: Mapped[list["BillerReference"]] = relationship(
        order_by="BillerReference.position", cascade="all, delete-orphan", lazy="selectin"
    )


class BillerKey(Base):
    """A secret the bank shares with one biller: it checks the biller's
    checkout requests and signs what the bank sends the biller. Several may be
    active while the biller rotates; the newest active one signs."""

    __tablename__ = "biller_keys"
    __table_args__ = (
        CheckConstraint("status IN ('active','retired')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    biller_id: Mapped[int] = mapped_column(ForeignKey("billers.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(40), unique=True)
    # Fernet under a key derived from the NIP pepper (banking_core/secrets.py).
    secret_sealed: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default="active")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


def _sql_list(names) -> str:
    """Rule names (our own constants, never input) as an SQL list: 'a', 'b'."""
    return ", ".join(f"'{name}'" for name in sorted(names))


class BillerReference(Base):
    __tablename__ = "biller_references"
    __table_args__ = (
        UniqueConstraint("biller_id", "position", name="uq_biller_references_position"),
        CheckConstraint("position BETWEEN 1 AND 3", name="position"),
        CheckConstraint("charset IN ('numeric','alphanumeric')", name="charset"),
        CheckConstraint("min_length >= 1 AND min_length <= max_length", name="length"),
        # The rules banking_core/checkdigits.py knows, and none on a reference
        # it could never pass (the loader refuses the same, with words).
        CheckConstraint(f"check_digit IN ({_sql_list(REFERENCE_RULES)})", name="check_digit"),
        CheckConstraint(f"charset = 'numeric' OR check_digit NOT IN "
                        f"({_sql_list(DIGITS_ONLY_RULES)})", name="check_digit_charset"),
        CheckConstraint(f"check_digit = 'none' OR max_length >= {MIN_CHECKED_LENGTH}",
                        name="check_digit_length"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    biller_id: Mapped[int] = mapped_column(ForeignKey("billers.id"))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(60))
    # What the phone line says for it, when the label is written for a screen.
    spoken_label: Mapped[str | None] = mapped_column(String(120), nullable=True)
    charset: Mapped[str] = mapped_column(String(16))
    min_length: Mapped[int] = mapped_column(Integer)
    max_length: Mapped[int] = mapped_column(Integer)
    check_digit: Mapped[str] = mapped_column(String(16), default="none")


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (CheckConstraint("role IN ('agent','supervisor')", name="role"),
                      CheckConstraint("failed_logins >= 0", name="failed_logins"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Consecutive failed log-ins, and until when the account refuses even the
    # right password: kept on the row so one conditional UPDATE counts and
    # locks atomically (banking_core/agents.py), as the customers' NIPs are.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(Base):
    """Every failed customer log-in, append-only, also for identifiers that do
    not exist: a security log (a burst of unknown keys is someone guessing),
    and the write that makes an unknown key cost what a real failure costs."""

    __tablename__ = "login_failures"
    __table_args__ = (
        CheckConstraint("reason IN ('unknown','malformed','wrong_nip','blocked')",
                        name="reason"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    method: Mapped[str] = mapped_column(String(16))
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credentials.id"), index=True)
    reason: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class Transfer(Base):
    """One balanced movement of money; immutable (database triggers refuse changes)."""

    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("kind IN ('payment','opening','adjustment')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    memo: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    entries: Mapped[list["Entry"]] = relationship(lazy="selectin")


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (CheckConstraint("amount_centavos <> 0", name="nonzero"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount_centavos: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_centavos > 0", name="positive"),
        CheckConstraint("channel IN ('phone','web','agent','domiciliacion')", name="channel"),
        Index("ix_payments_daily_limit", "account_id", "channel", "posted_at"),
        Index("ix_payments_customer_posted", "customer_id", "posted_at"),
        # A biller's own queries: its collection file by day, its API by reference.
        Index("ix_payments_biller_posted", "biller_id", "posted_at"),
        Index("ix_payments_biller_reference", "biller_id", "reference1"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    folio: Mapped[str] = mapped_column(String(10), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    biller_id: Mapped[int] = mapped_column(ForeignKey("billers.id"))
    reference1: Mapped[str] = mapped_column(String(40))
    reference2: Mapped[str | None] = mapped_column(String(40))
    reference3: Mapped[str | None] = mapped_column(String(40))
    amount_centavos: Mapped[int] = mapped_column(BigInteger)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"), unique=True)
    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    @property
    def references(self) -> list[str]:
        return [r for r in (self.reference1, self.reference2, self.reference3) if r is not None]


class OutboxMessage(Base):
    """A notification queued in the same transaction as what it announces: a
    confirmation e-mail (queued by the posting), or a biller's webhook (kind
    `biller_webhook`, queued by a trigger on payments, migration 0014). A
    webhook nobody took for days ends `failed`, kept and replayable."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending','sent','failed')", name="status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_kind_due", "kind", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    # An e-mail address, or a biller's notification URL (up to 500).
    recipient: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CallRecord(Base):
    """How one phone call ended, written when Twilio reports it over: the raw
    material for drop-off reports (where callers hang up, why they go to an
    agent). Holds no secret: the caller's number, who logged in, the last
    menu node."""

    __tablename__ = "call_records"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('ivr_hung_up','transferred','caller_hung_up','state_lost')",
            name="outcome"),
        Index("ix_call_records_ended", "ended_at"),
    )

    call_sid: Mapped[str] = mapped_column(String(34), primary_key=True)
    caller: Mapped[str | None] = mapped_column(String(20))  # E.164
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    login_method: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    call_status: Mapped[str] = mapped_column(String(16))  # Twilio's CallStatus
    outcome: Mapped[str] = mapped_column(String(16))
    transfer_reason: Mapped[str | None] = mapped_column(String(40))
    last_node: Mapped[str | None] = mapped_column(String(60))
    turns: Mapped[int] = mapped_column(Integer, default=0)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    folios: Mapped[list] = mapped_column(JSON, default=list)


class Handoff(Base):
    """A call the IVR passed to the agents, with what the agent needs to know:
    the screen pop. One per call; moves transferring (the IVR answered the
    transfer) → waiting (Twilio really enqueued the caller) → taken → completed,
    or abandoned when the caller leaves, callback when the caller asked to be
    called back. `caller_at` says where the caller's leg is at this moment."""

    __tablename__ = "handoffs"
    __table_args__ = (
        CheckConstraint(
            "status IN ('transferring','waiting','taken','completed','abandoned','callback')",
            name="status"),
        CheckConstraint("caller_at IN ('ivr','queue','agent','verifying','gone')",
                        name="caller_at"),
        Index("ix_handoffs_status_created", "status", "created_at"),
        Index("ix_handoffs_status_enqueued", "status", "enqueued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(34), unique=True)
    caller: Mapped[str | None] = mapped_column(String(20))  # E.164
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="transferring")
    caller_at: Mapped[str] = mapped_column(String(12), default="ivr", server_default="ivr")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    login_method: Mapped[str | None] = mapped_column(String(16))  # how the caller proved it
    account_ids: Mapped[list] = mapped_column(JSON, default=list)  # what that log-in may use
    # What the caller keyed before the transfer (never a NIP, card or access key).
    keyed: Mapped[dict] = mapped_column(JSON, default=dict)
    # An unauthenticated caller's card or account, keyed by the agent, waiting for
    # the caller to key its NIP on the phone: kept as the keyed hash and last 4.
    verify_method: Mapped[str | None] = mapped_column(String(16))
    verify_lookup: Mapped[str | None] = mapped_column(String(64))
    verify_last4: Mapped[str | None] = mapped_column(String(4))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    folios: Mapped[list] = mapped_column(JSON, default=list)
    disposition: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(String(500))
    # Twilio's names for the legs: the queue holding the caller (dequeued by
    # CallSid, so the agent gets exactly this caller), the agent's softphone
    # leg and the hand-off's conference (to hold the agent while the caller
    # keys a NIP).
    queue_sid: Mapped[str | None] = mapped_column(String(34))
    agent_call_sid: Mapped[str | None] = mapped_column(String(34))
    conference_sid: Mapped[str | None] = mapped_column(String(34))
    agent_on_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    enqueued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AgentAudit(Base):
    """Every agent action, append-only: who did what, to which call, when."""

    __tablename__ = "agent_audit"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoffs.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CallTranscript(Base):
    """What one phone call heard and keyed, turn by turn, for QA: `ivr
    transcripts export` turns it into a replayable script and `ivr replay`
    reads the menu nodes it visited for coverage. Secrets never reach it: keys
    typed at a secret node (NIP, card, account, access key) are stored masked,
    and long digit runs in what was said are masked too."""

    __tablename__ = "call_transcripts"
    __table_args__ = (Index("ix_call_transcripts_saved", "saved_at"),)

    call_sid: Mapped[str] = mapped_column(String(34), primary_key=True)
    caller: Mapped[str | None] = mapped_column(String(20))  # E.164
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    saved_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # As in call_records; None while the call may still be live (saved by the
    # sweep because its status callback had not come).
    outcome: Mapped[str | None] = mapped_column(String(16))
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    turns: Mapped[list] = mapped_column(JSON, default=list)


class LoginSession(Base):
    """One logged-in session (banking_core/sessions.py), when sessions live in
    the database: keyed by the digest of the token the browser holds, never
    the token. Ended sessions are deleted, not marked."""

    __tablename__ = "login_sessions"
    __table_args__ = (
        CheckConstraint("channel IN ('web','desk','phone')", name="channel"),
        Index("ix_login_sessions_principal", "principal"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # credential:<id> | agent:<id>; none before log-in (a form's CSRF token)
    principal: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(8))
    data: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    idle_until: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # last request + idle
    idle_seconds: Mapped[int] = mapped_column(Integer)


class CheckoutOrder(Base):
    """A biller's checkout request the bank accepted (banking_core/checkout.py):
    one per biller and order id, whatever happens to it. It binds to the first
    customer who opens it, and becomes paid in the payment's own transaction.
    The page's token is never stored: only its digest, to find the order."""

    __tablename__ = "checkout_orders"
    __table_args__ = (
        UniqueConstraint("biller_id", "order_id", name="uq_checkout_orders_biller_order"),
        CheckConstraint("status IN ('pending','paid','cancelled','expired')", name="status"),
        CheckConstraint("amount_centavos > 0", name="positive"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    biller_id: Mapped[int] = mapped_column(ForeignKey("billers.id"))
    order_id: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(40))  # the key that signed the request
    reference1: Mapped[str] = mapped_column(String(40))
    reference2: Mapped[str | None] = mapped_column(String(40))
    reference3: Mapped[str | None] = mapped_column(String(40))
    amount_centavos: Mapped[int] = mapped_column(BigInteger)
    email: Mapped[str] = mapped_column(String(254))
    return_url: Mapped[str] = mapped_column(String(500))
    # SHA-256 of what the request asks (service, references, amount, e-mail,
    # return URL): a second request under the same order id must ask the same.
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(9), default="pending")
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    folio: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Domiciliation(Base):
    """A customer's standing order to pay a service every month from one of
    their accounts (banking_core/domiciliations.py; docs/domiciliacion.md).
    `next_date` is the next occurrence not yet scheduled: the scheduler turns
    it into an occurrence row and moves it on (none once it ends)."""

    __tablename__ = "domiciliations"
    __table_args__ = (
        CheckConstraint("status IN ('active','paused','cancelled','finished')", name="status"),
        CheckConstraint("amount_mode IN ('fixed','billed')", name="amount_mode"),
        CheckConstraint(
            "(amount_mode = 'fixed' AND amount_centavos > 0 AND ceiling_centavos IS NULL) OR "
            "(amount_mode = 'billed' AND ceiling_centavos > 0 AND amount_centavos IS NULL)",
            name="amount_rule"),
        CheckConstraint("day_of_month BETWEEN 1 AND 31", name="day_of_month"),
        CheckConstraint("end_date IS NULL OR start_date <= end_date", name="dates"),
        # web | agent | loaded (a bank file's, `ivr bank load`)
        CheckConstraint("created_channel IN ('web','agent','loaded')", name="created_channel"),
        Index("ix_domiciliations_due", "status", "next_date"),
        Index("ix_domiciliations_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    biller_id: Mapped[int] = mapped_column(ForeignKey("billers.id"))
    reference1: Mapped[str] = mapped_column(String(40))
    reference2: Mapped[str | None] = mapped_column(String(40))
    reference3: Mapped[str | None] = mapped_column(String(40))
    amount_mode: Mapped[str] = mapped_column(String(8))
    amount_centavos: Mapped[int | None] = mapped_column(BigInteger)
    ceiling_centavos: Mapped[int | None] = mapped_column(BigInteger)
    day_of_month: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    next_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="active")
    created_channel: Mapped[str] = mapped_column(String(8))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    # The form's operation id: a double submit finds the first one.
    creation_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    @property
    def references(self) -> list[str]:
        return [r for r in (self.reference1, self.reference2, self.reference3) if r is not None]


class DomiciliationOccurrence(Base):
    """One due date of a domiciliation: unique per (domiciliation, date), so
    however many scheduler runs overlap, each date is charged at most once
    (its payment's idempotency key, `dom:<id>:<date>`, is the second lock).
    due → paid | failed | skipped | cancelled."""

    __tablename__ = "domiciliation_occurrences"
    __table_args__ = (
        UniqueConstraint("domiciliation_id", "due_date", name="uq_domiciliation_occurrences_date"),
        CheckConstraint("status IN ('due','paid','failed','skipped','cancelled')",
                        name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_domiciliation_occurrences_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    domiciliation_id: Mapped[int] = mapped_column(ForeignKey("domiciliations.id"))
    due_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="due")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    amount_centavos: Mapped[int | None] = mapped_column(BigInteger)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    bill_id: Mapped[int | None] = mapped_column(ForeignKey("bills.id"))
    # Why the last attempt did not pay: a DomainError's code, or no_bill,
    # over_ceiling, bill_paid; paused or cancelled when the customer stopped it.
    last_error: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Bill(Base):
    """What a biller says one customer owes for one period (`ivr bank bills
    load`): what a domiciliation "for the amount billed" pays."""

    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("biller_id", "references_key", "period", name="uq_bills_period"),
        CheckConstraint("amount_centavos > 0", name="positive"),
        CheckConstraint("status IN ('open','paid')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    biller_id: Mapped[int] = mapped_column(ForeignKey("billers.id"))
    # The references as the biller's rules normalize them, joined by "|".
    references_key: Mapped[str] = mapped_column(String(130))
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount_centavos: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8), default="open")
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
