"""domiciliations: standing monthly payments, their occurrences, billers' bills

A customer domiciles a service (banking_core/domiciliations.py): every month,
on its day, the scheduler (`ivr bank run-due`, the worker) charges it through
the same posting as any payment, with the new channel "domiciliacion" (ASCII,
as the other channel codes; the pages say "domiciliación"). That channel has
its own daily limit and running total on the account row, like the others, so
the posting function of migration 0002 learns it (same signature, replaced).

- payments.channel: String(16), and the CHECK takes 'domiciliacion';
- accounts.spent_domiciliacion_centavos: the day's running total;
- domiciliations, domiciliation_occurrences (unique per domiciliation and
  date: a date is charged once however many runs overlap), bills.

A downgrade is refused by the database while any payment was posted by a
domiciliation (the ledger is append-only; those rows cannot go).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10 10:00:00
"""
import importlib.util
import re
from pathlib import Path

import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

CHANNELS_BEFORE = "channel IN ('phone','web','agent')"
CHANNELS_AFTER = "channel IN ('phone','web','agent','domiciliacion')"


def upgrade() -> None:
    op.add_column('accounts', sa.Column('spent_domiciliacion_centavos', sa.BigInteger(),
                                        server_default='0', nullable=False))
    _payment_channels(sa.String(length=16), CHANNELS_AFTER)
    _create_tables()
    if _postgresql():
        op.execute(FUNCTION)


def downgrade() -> None:
    if _postgresql():
        op.execute(_function_of_0002())
    op.drop_table('domiciliation_occurrences')
    op.drop_table('domiciliations')
    op.drop_table('bills')
    _payment_channels(sa.String(length=8), CHANNELS_BEFORE)
    # Not batch mode on SQLite: copying accounts would break every foreign
    # key pointing at it (see _sqlite_payments_schema); SQLite ≥ 3.35 drops a
    # plain column in place.
    op.execute("ALTER TABLE accounts DROP COLUMN spent_domiciliacion_centavos")


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _payment_channels(column_type, condition: str) -> None:
    if _postgresql():
        op.alter_column('payments', 'channel', type_=column_type, existing_nullable=False)
        op.drop_constraint(op.f('ck_payments_channel'), 'payments', type_='check')
        op.create_check_constraint(op.f('ck_payments_channel'), 'payments', condition)
        return
    _sqlite_payments_schema(column_type.length, condition)


def _sqlite_payments_schema(length: int, condition: str) -> None:
    """SQLite changes a CHECK by copying the table, and the copy cannot be
    made here: the outbox's rows point at payments, and SQLite counts every
    one of them as a foreign-key violation until commit, however the copy
    ends (foreign keys can only be switched off outside a transaction). So
    the table's definition is edited in place, SQLite's own procedure for
    changes that leave the stored rows as they are (sqlite.org/lang_altertable,
    "Making Other Kinds Of Table Schema Changes"): a CHECK that takes one more
    value, a VARCHAR length SQLite never enforces. The rows, indexes and
    triggers stay untouched."""
    bind = op.get_bind()
    if condition == CHANNELS_BEFORE and bind.exec_driver_sql(
            "SELECT 1 FROM payments WHERE channel = 'domiciliacion' LIMIT 1").first():
        raise RuntimeError("payments by domiciliation exist (the ledger keeps them): "
                           "cannot go back before revision 0015")
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'payments'").scalar_one()
    changed = re.sub(r"channel VARCHAR\(\d+\) NOT NULL", f"channel VARCHAR({length}) NOT NULL",
                     sql, count=1)
    changed = re.sub(r"CONSTRAINT ck_payments_channel CHECK \(channel IN \([^)]*\)\)",
                     f"CONSTRAINT ck_payments_channel CHECK ({condition})", changed, count=1)
    if f"CHECK ({condition})" not in changed or f"VARCHAR({length})" not in changed:
        raise RuntimeError("payments' definition is not the one migration 0001 wrote")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' "
                             "AND name = 'payments'", (changed,))
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def _create_tables() -> None:
    op.create_table(
        'bills',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('biller_id', sa.Integer(), nullable=False),
        sa.Column('references_key', sa.String(length=130), nullable=False),
        sa.Column('period', sa.String(length=7), nullable=False),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('amount_centavos', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('amount_centavos > 0', name=op.f('ck_bills_positive')),
        sa.CheckConstraint("status IN ('open','paid')", name=op.f('ck_bills_status')),
        sa.ForeignKeyConstraint(['biller_id'], ['billers.id'],
                                name=op.f('fk_bills_biller_id_billers')),
        sa.ForeignKeyConstraint(['payment_id'], ['payments.id'],
                                name=op.f('fk_bills_payment_id_payments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bills')),
        sa.UniqueConstraint('biller_id', 'references_key', 'period', name='uq_bills_period'),
    )
    op.create_table(
        'domiciliations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('biller_id', sa.Integer(), nullable=False),
        sa.Column('reference1', sa.String(length=40), nullable=False),
        sa.Column('reference2', sa.String(length=40), nullable=True),
        sa.Column('reference3', sa.String(length=40), nullable=True),
        sa.Column('amount_mode', sa.String(length=8), nullable=False),
        sa.Column('amount_centavos', sa.BigInteger(), nullable=True),
        sa.Column('ceiling_centavos', sa.BigInteger(), nullable=True),
        sa.Column('day_of_month', sa.Integer(), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('end_date', sa.Date(), nullable=True),
        sa.Column('next_date', sa.Date(), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('created_channel', sa.String(length=8), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('creation_key', sa.String(length=128), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active','paused','cancelled','finished')",
                           name=op.f('ck_domiciliations_status')),
        sa.CheckConstraint("amount_mode IN ('fixed','billed')",
                           name=op.f('ck_domiciliations_amount_mode')),
        sa.CheckConstraint(
            "(amount_mode = 'fixed' AND amount_centavos > 0 AND ceiling_centavos IS NULL) OR "
            "(amount_mode = 'billed' AND ceiling_centavos > 0 AND amount_centavos IS NULL)",
            name=op.f('ck_domiciliations_amount_rule')),
        sa.CheckConstraint('day_of_month BETWEEN 1 AND 31',
                           name=op.f('ck_domiciliations_day_of_month')),
        sa.CheckConstraint('end_date IS NULL OR start_date <= end_date',
                           name=op.f('ck_domiciliations_dates')),
        sa.CheckConstraint("created_channel IN ('web','agent','loaded')",
                           name=op.f('ck_domiciliations_created_channel')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_domiciliations_customer_id_customers')),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_domiciliations_account_id_accounts')),
        sa.ForeignKeyConstraint(['biller_id'], ['billers.id'],
                                name=op.f('fk_domiciliations_biller_id_billers')),
        sa.ForeignKeyConstraint(['agent_id'], ['agents.id'],
                                name=op.f('fk_domiciliations_agent_id_agents')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_domiciliations')),
        sa.UniqueConstraint('creation_key', name=op.f('uq_domiciliations_creation_key')),
    )
    with op.batch_alter_table('domiciliations', schema=None) as batch_op:
        batch_op.create_index('ix_domiciliations_due', ['status', 'next_date'], unique=False)
        batch_op.create_index('ix_domiciliations_customer', ['customer_id'], unique=False)
    op.create_table(
        'domiciliation_occurrences',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('domiciliation_id', sa.Integer(), nullable=False),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('amount_centavos', sa.BigInteger(), nullable=True),
        sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=True),
        sa.Column('bill_id', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=40), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('due','paid','failed','skipped','cancelled')",
                           name=op.f('ck_domiciliation_occurrences_status')),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_domiciliation_occurrences_attempts')),
        sa.ForeignKeyConstraint(
            ['domiciliation_id'], ['domiciliations.id'],
            name=op.f('fk_domiciliation_occurrences_domiciliation_id_domiciliations')),
        sa.ForeignKeyConstraint(['payment_id'], ['payments.id'],
                                name=op.f('fk_domiciliation_occurrences_payment_id_payments')),
        sa.ForeignKeyConstraint(['bill_id'], ['bills.id'],
                                name=op.f('fk_domiciliation_occurrences_bill_id_bills')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_domiciliation_occurrences')),
        sa.UniqueConstraint('domiciliation_id', 'due_date',
                            name='uq_domiciliation_occurrences_date'),
    )
    with op.batch_alter_table('domiciliation_occurrences', schema=None) as batch_op:
        batch_op.create_index('ix_domiciliation_occurrences_due', ['status', 'next_attempt_at'],
                              unique=False)


def _function_of_0002() -> str:
    """Migration 0002's posting function, as it was: what a downgrade puts back."""
    path = Path(__file__).with_name("0002_ledger_post_payment.py")
    spec = importlib.util.spec_from_file_location("migration_0002", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FUNCTION.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


# Migration 0002's function with the channel "domiciliacion": its limit is the
# bank's default for it (no per-account override), its running total
# spent_domiciliacion_centavos. The other channels are unchanged.
FUNCTION = r"""
CREATE OR REPLACE FUNCTION ledger_post_payment(
    p_key text, p_request_hash text, p_customer_id integer, p_account_id integer,
    p_channel text, p_biller_id integer, p_collection_account_id integer,
    p_ref1 text, p_ref2 text, p_ref3 text, p_amount bigint, p_agent_id integer,
    p_folio text, p_now timestamptz, p_default_limit bigint,
    p_memo text, p_payload jsonb, p_biller_version integer, p_local_date date,
    OUT o_outcome text, OUT o_folio text, OUT o_payment_id bigint, OUT o_balance bigint,
    OUT o_spent bigint, OUT o_daily_limit bigint, OUT o_account_last4 text)
LANGUAGE plpgsql AS $$
DECLARE
    v_account record;
    v_existing record;
    v_transfer_id bigint;
BEGIN
    -- The caller validated against a cached copy of the service; refuse if
    -- that copy is no longer current (the caller reloads and tries again).
    PERFORM 1 FROM billers b WHERE b.id = p_biller_id AND b.version = p_biller_version;
    IF NOT FOUND THEN
        o_outcome := 'stale_service';
        RETURN;
    END IF;

    SELECT a.customer_id, a.kind, a.number, a.balance_centavos, c.name, c.email,
           CASE p_channel WHEN 'phone' THEN a.limit_phone_centavos
                          WHEN 'web' THEN a.limit_web_centavos
                          WHEN 'agent' THEN a.limit_agent_centavos
                          ELSE NULL END AS own_limit,
           CASE WHEN a.spent_on IS DISTINCT FROM p_local_date THEN 0
                WHEN p_channel = 'phone' THEN a.spent_phone_centavos
                WHEN p_channel = 'web' THEN a.spent_web_centavos
                WHEN p_channel = 'agent' THEN a.spent_agent_centavos
                ELSE a.spent_domiciliacion_centavos END AS spent_today
      INTO v_account
      FROM accounts a JOIN customers c ON c.id = a.customer_id
     WHERE a.id = p_account_id
       FOR UPDATE OF a;
    IF NOT FOUND OR v_account.customer_id <> p_customer_id
       OR v_account.kind NOT IN ('cheques', 'ahorro', 'nomina') THEN
        o_outcome := 'account_not_owned';
        RETURN;
    END IF;
    o_account_last4 := right(v_account.number, 4);

    -- Under the lock: a twin that held it before us has committed by now, and
    -- this statement's snapshot (READ COMMITTED) sees it.
    SELECT p.id, p.folio, p.request_hash INTO v_existing
      FROM payments p WHERE p.idempotency_key = p_key;
    IF FOUND THEN
        o_payment_id := v_existing.id;
        o_folio := v_existing.folio;
        o_outcome := CASE WHEN v_existing.request_hash = p_request_hash
                          THEN 'replayed' ELSE 'idempotency_conflict' END;
        RETURN;
    END IF;

    o_balance := v_account.balance_centavos;
    IF o_balance < p_amount THEN
        o_outcome := 'insufficient_funds';
        RETURN;
    END IF;
    o_daily_limit := coalesce(v_account.own_limit, p_default_limit);
    o_spent := v_account.spent_today;
    IF o_spent + p_amount > o_daily_limit THEN
        o_outcome := 'over_daily_limit';
        RETURN;
    END IF;

    INSERT INTO transfers (kind, memo, created_at)
    VALUES ('payment', p_memo, p_now) RETURNING id INTO v_transfer_id;
    INSERT INTO payments (folio, channel, customer_id, account_id, biller_id, reference1,
                          reference2, reference3, amount_centavos, agent_id, idempotency_key,
                          request_hash, transfer_id, posted_at)
    VALUES (p_folio, p_channel, p_customer_id, p_account_id, p_biller_id, p_ref1, p_ref2,
            p_ref3, p_amount, p_agent_id, p_key, p_request_hash, v_transfer_id, p_now)
    RETURNING id INTO o_payment_id;
    INSERT INTO entries (transfer_id, account_id, amount_centavos, created_at)
    VALUES (v_transfer_id, p_account_id, -p_amount, p_now),
           (v_transfer_id, p_collection_account_id, p_amount, p_now);
    UPDATE accounts
       SET balance_centavos = balance_centavos - p_amount,
           spent_phone_centavos = CASE WHEN spent_on IS DISTINCT FROM p_local_date THEN 0
                                       ELSE spent_phone_centavos END
                                  + CASE WHEN p_channel = 'phone' THEN p_amount ELSE 0 END,
           spent_web_centavos = CASE WHEN spent_on IS DISTINCT FROM p_local_date THEN 0
                                     ELSE spent_web_centavos END
                                + CASE WHEN p_channel = 'web' THEN p_amount ELSE 0 END,
           spent_agent_centavos = CASE WHEN spent_on IS DISTINCT FROM p_local_date THEN 0
                                       ELSE spent_agent_centavos END
                                  + CASE WHEN p_channel = 'agent' THEN p_amount ELSE 0 END,
           spent_domiciliacion_centavos =
               CASE WHEN spent_on IS DISTINCT FROM p_local_date THEN 0
                    ELSE spent_domiciliacion_centavos END
               + CASE WHEN p_channel = 'domiciliacion' THEN p_amount ELSE 0 END,
           spent_on = p_local_date
     WHERE id = p_account_id;
    INSERT INTO outbox (kind, payment_id, recipient, payload, status, attempts,
                        next_attempt_at, created_at)
    VALUES ('payment_confirmation', o_payment_id, v_account.email,
            (p_payload || jsonb_build_object('customer_name', v_account.name,
                                             'account_last4', o_account_last4))::json,
            'pending', 0, p_now, p_now);
    o_balance := o_balance - p_amount;
    o_folio := p_folio;
    o_outcome := 'posted';
END $$
"""
