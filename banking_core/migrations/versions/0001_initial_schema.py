"""initial schema: customers, credentials, accounts, billers, ledger, payments, outbox

Besides the tables: triggers that make the ledger append-only, and triggers that
bump billers.version on any change to a biller or its references (processes
cache services and each posting checks the version it validated against).

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 03:14:37.727264
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('agent','supervisor')", name=op.f('ck_agents_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agents')),
    sa.UniqueConstraint('username', name=op.f('uq_agents_username'))
    )
    op.create_table('customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers'))
    )
    op.create_table('transfers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('memo', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('payment','opening','adjustment')", name=op.f('ck_transfers_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfers'))
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('clabe', sa.String(length=18), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=True),
    sa.Column('balance_centavos', sa.BigInteger(), nullable=True),
    sa.Column('limit_phone_centavos', sa.BigInteger(), nullable=True),
    sa.Column('limit_web_centavos', sa.BigInteger(), nullable=True),
    sa.Column('limit_agent_centavos', sa.BigInteger(), nullable=True),
    sa.Column('spent_on', sa.Date(), nullable=True),
    sa.Column('spent_phone_centavos', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('spent_web_centavos', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('spent_agent_centavos', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('cheques','ahorro','nomina','collection','capital')", name=op.f('ck_accounts_kind')),
    sa.CheckConstraint('balance_centavos IS NULL OR balance_centavos >= 0', name=op.f('ck_accounts_no_overdraft')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_accounts_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('clabe', name=op.f('uq_accounts_clabe')),
    sa.UniqueConstraint('number', name=op.f('uq_accounts_number'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_customer_id'), ['customer_id'], unique=False)

    op.create_table('billers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_key', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('collection_account_id', sa.Integer(), nullable=False),
    sa.Column('amount_min_centavos', sa.BigInteger(), nullable=True),
    sa.Column('amount_max_centavos', sa.BigInteger(), nullable=True),
    sa.Column('amount_fixed_centavos', sa.BigInteger(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(amount_fixed_centavos IS NOT NULL) OR (amount_min_centavos IS NOT NULL AND amount_max_centavos IS NOT NULL AND amount_min_centavos <= amount_max_centavos)', name=op.f('ck_billers_amount_rule')),
    sa.ForeignKeyConstraint(['collection_account_id'], ['accounts.id'], name=op.f('fk_billers_collection_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billers')),
    sa.UniqueConstraint('service_key', name=op.f('uq_billers_service_key'))
    )
    op.create_table('credentials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('lookup_hash', sa.String(length=64), nullable=False),
    sa.Column('last4', sa.String(length=4), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('secret_hash', sa.String(length=255), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('blocked_reason', sa.String(length=64), nullable=True),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('access_key','card','account')", name=op.f('ck_credentials_kind')),
    sa.CheckConstraint('failed_attempts >= 0', name=op.f('ck_credentials_failed_attempts')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_credentials_account_id_accounts')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_credentials_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credentials')),
    sa.UniqueConstraint('kind', 'lookup_hash', name='uq_credentials_kind_lookup')
    )
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credentials_customer_id'), ['customer_id'], unique=False)

    op.create_table('entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('transfer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount_centavos', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_centavos <> 0', name=op.f('ck_entries_nonzero')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_entries_account_id_accounts')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'], name=op.f('fk_entries_transfer_id_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entries'))
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entries_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_entries_transfer_id'), ['transfer_id'], unique=False)

    op.create_table('biller_references',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('biller_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('charset', sa.String(length=16), nullable=False),
    sa.Column('min_length', sa.Integer(), nullable=False),
    sa.Column('max_length', sa.Integer(), nullable=False),
    sa.Column('check_digit', sa.String(length=16), nullable=False),
    sa.CheckConstraint("charset IN ('numeric','alphanumeric')", name=op.f('ck_biller_references_charset')),
    sa.CheckConstraint('min_length >= 1 AND min_length <= max_length', name=op.f('ck_biller_references_length')),
    sa.CheckConstraint('position BETWEEN 1 AND 3', name=op.f('ck_biller_references_position')),
    sa.ForeignKeyConstraint(['biller_id'], ['billers.id'], name=op.f('fk_biller_references_biller_id_billers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_biller_references')),
    sa.UniqueConstraint('biller_id', 'position', name='uq_biller_references_position')
    )
    op.create_table('payments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('folio', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('biller_id', sa.Integer(), nullable=False),
    sa.Column('reference1', sa.String(length=40), nullable=False),
    sa.Column('reference2', sa.String(length=40), nullable=True),
    sa.Column('reference3', sa.String(length=40), nullable=True),
    sa.Column('amount_centavos', sa.BigInteger(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('transfer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('phone','web','agent')", name=op.f('ck_payments_channel')),
    sa.CheckConstraint('amount_centavos > 0', name=op.f('ck_payments_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_payments_account_id_accounts')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_payments_agent_id_agents')),
    sa.ForeignKeyConstraint(['biller_id'], ['billers.id'], name=op.f('fk_payments_biller_id_billers')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_payments_customer_id_customers')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfers.id'], name=op.f('fk_payments_transfer_id_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('folio', name=op.f('uq_payments_folio')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_payments_idempotency_key')),
    sa.UniqueConstraint('transfer_id', name=op.f('uq_payments_transfer_id'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_customer_posted', ['customer_id', 'posted_at'], unique=False)
        batch_op.create_index('ix_payments_daily_limit', ['account_id', 'channel', 'posted_at'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending','sent')", name=op.f('ck_outbox_status')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_outbox_payment_id_payments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)


    create_immutability_triggers()
    create_biller_version_triggers()

def downgrade() -> None:
    drop_biller_version_triggers()
    drop_immutability_triggers()
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_daily_limit')
        batch_op.drop_index('ix_payments_customer_posted')

    op.drop_table('payments')
    op.drop_table('biller_references')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entries_transfer_id'))
        batch_op.drop_index(batch_op.f('ix_entries_account_id'))

    op.drop_table('entries')
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credentials_customer_id'))

    op.drop_table('credentials')
    op.drop_table('billers')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_customer_id'))

    op.drop_table('accounts')
    op.drop_table('transfers')
    op.drop_table('customers')
    op.drop_table('agents')


# The ledger is append-only: transfers, their entries and the payments they
# record can be inserted but never changed or deleted, whatever code (or person
# with a SQL prompt) tries. Corrections are new transfers.
IMMUTABLE_TABLES = ("transfers", "entries", "payments")


def create_immutability_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'ledger rows are immutable: % on %', TG_OP, TG_TABLE_NAME;
            END $$ LANGUAGE plpgsql
        """)
        for table in IMMUTABLE_TABLES:
            op.execute(f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()")
    else:
        for table in IMMUTABLE_TABLES:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'ledger rows are immutable: {action} on {table}'); END"
                )


def drop_immutability_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in IMMUTABLE_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")
    else:
        for table in IMMUTABLE_TABLES:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")


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


def create_biller_version_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_BUMP)
        op.execute("CREATE TRIGGER billers_version BEFORE UPDATE ON billers FOR EACH ROW "
                   "WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION billers_bump_version()")
        op.execute("CREATE TRIGGER biller_references_version AFTER INSERT OR UPDATE OR DELETE "
                   "ON biller_references FOR EACH ROW EXECUTE FUNCTION billers_bump_version()")
    else:
        # SQLite: recursive_triggers is off, so this UPDATE does not re-fire itself.
        op.execute("CREATE TRIGGER billers_version AFTER UPDATE ON billers "
                   "WHEN NEW.version = OLD.version "
                   "BEGIN UPDATE billers SET version = OLD.version + 1 WHERE id = NEW.id; END")
        for action, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            op.execute(f"CREATE TRIGGER biller_references_version_{action.lower()} "
                       f"AFTER {action} ON biller_references BEGIN UPDATE billers "
                       f"SET version = version + 1 WHERE id = {row}.biller_id; END")


def drop_biller_version_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS biller_references_version ON biller_references")
        op.execute("DROP TRIGGER IF EXISTS billers_version ON billers")
        op.execute("DROP FUNCTION IF EXISTS billers_bump_version()")
    else:
        op.execute("DROP TRIGGER IF EXISTS billers_version")
        for action in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS biller_references_version_{action}")
