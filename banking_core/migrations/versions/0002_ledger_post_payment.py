"""ledger_post_payment: PostgreSQL posts a payment in one round trip

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

The same contract as banking_core/posting.py's statement path (see there); the
integration suite runs against both. Under the account's row lock it checks the
caller's cached service version, ownership, the idempotency key, the balance
and the day's running total for the channel (kept on the account row, so no
scan of the day's payments), then writes transfer, payment, entries, balance,
running totals and the outbox row. SQLite gets nothing here.
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SIGNATURE = ("ledger_post_payment(text, text, integer, integer, text, integer, integer, text, text, text"
             ", bigint, integer, text, timestamptz, bigint, text, jsonb, integer, date)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")


FUNCTION = r"""
CREATE FUNCTION ledger_post_payment(
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
                          ELSE a.limit_agent_centavos END AS own_limit,
           CASE WHEN a.spent_on IS DISTINCT FROM p_local_date THEN 0
                WHEN p_channel = 'phone' THEN a.spent_phone_centavos
                WHEN p_channel = 'web' THEN a.spent_web_centavos
                ELSE a.spent_agent_centavos END AS spent_today
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
    -- The day's running total per channel lives on the locked row itself: no
    -- scan of the day's payments, however many the account made.
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
