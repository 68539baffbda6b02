"""billers.version: bumped by the database on any change to a biller or its references

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Lets a process keep service definitions in memory: every posting checks, under
its transaction, that the version it validated against is still current (and
the service still active); a stale copy is refused and reloaded, never used.
Triggers, not application code, bump the version, so no path can forget.
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PG_BUMP = """
CREATE FUNCTION billers_bump_version() RETURNS trigger AS $$
BEGIN
    IF TG_TABLE_NAME = 'billers' THEN
        NEW.version := OLD.version + 1;
        RETURN NEW;
    END IF;
    UPDATE billers SET version = version + 1
     WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.biller_id ELSE NEW.biller_id END;
    RETURN NULL;
END $$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    with op.batch_alter_table("billers") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False,
                                   server_default="1"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_BUMP)
        op.execute("CREATE TRIGGER billers_version BEFORE UPDATE ON billers FOR EACH ROW "
                   "WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION billers_bump_version()")
        op.execute("CREATE TRIGGER biller_references_version AFTER INSERT OR UPDATE OR DELETE "
                   "ON biller_references FOR EACH ROW EXECUTE FUNCTION billers_bump_version()")
        op.execute(f"DROP FUNCTION {SIGNATURE_V1}")
        op.execute(FUNCTION_V2)
    else:
        # SQLite: recursive_triggers is off, so this UPDATE does not re-fire itself.
        op.execute("CREATE TRIGGER billers_version AFTER UPDATE ON billers "
                   "WHEN NEW.version = OLD.version "
                   "BEGIN UPDATE billers SET version = OLD.version + 1 WHERE id = NEW.id; END")
        for action, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            op.execute(f"CREATE TRIGGER biller_references_version_{action.lower()} "
                       f"AFTER {action} ON biller_references BEGIN UPDATE billers "
                       f"SET version = version + 1 WHERE id = {row}.biller_id; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER biller_references_version ON biller_references")
        op.execute("DROP TRIGGER billers_version ON billers")
        op.execute("DROP FUNCTION billers_bump_version()")
        op.execute(f"DROP FUNCTION {SIGNATURE_V2}")
        op.execute(_previous_function())
    else:
        op.execute("DROP TRIGGER billers_version")
        for action in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER biller_references_version_{action}")
    with op.batch_alter_table("billers") as batch:
        batch.drop_column("version")


SIGNATURE_V1 = ("ledger_post_payment(text, text, integer, integer, text, integer, integer, text, text, text"
                ", bigint, integer, text, timestamptz, timestamptz, bigint, text, jsonb)")
SIGNATURE_V2 = ("ledger_post_payment(text, text, integer, integer, text, integer, integer, text, text, text"
                ", bigint, integer, text, timestamptz, timestamptz, bigint, text, jsonb, integer)")


def _previous_function() -> str:
    import importlib

    return importlib.import_module(
        "banking_core.migrations.versions.0002_ledger_post_payment").FUNCTION


# ledger_post_payment as of 0002, plus the check of the caller's biller version.
FUNCTION_V2 = r"""
CREATE FUNCTION ledger_post_payment(
    p_key text, p_request_hash text, p_customer_id integer, p_account_id integer,
    p_channel text, p_biller_id integer, p_collection_account_id integer,
    p_ref1 text, p_ref2 text, p_ref3 text, p_amount bigint, p_agent_id integer,
    p_folio text, p_now timestamptz, p_day_start timestamptz, p_default_limit bigint,
    p_memo text, p_payload jsonb, p_biller_version integer,
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
                          ELSE a.limit_agent_centavos END AS own_limit
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
    SELECT coalesce(sum(p.amount_centavos), 0) INTO o_spent
      FROM payments p
     WHERE p.account_id = p_account_id AND p.channel = p_channel
       AND p.posted_at >= p_day_start;
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
    UPDATE accounts SET balance_centavos = balance_centavos - p_amount
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
