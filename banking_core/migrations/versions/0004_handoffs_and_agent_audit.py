"""handoffs and agent audit: calls passed to the agents, and what agents did

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 05:57:15.969098
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('handoffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_sid', sa.String(length=34), nullable=False),
    sa.Column('caller', sa.String(length=20), nullable=True),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('login_method', sa.String(length=16), nullable=True),
    sa.Column('account_ids', sa.JSON(), nullable=False),
    sa.Column('keyed', sa.JSON(), nullable=False),
    sa.Column('verify_method', sa.String(length=16), nullable=True),
    sa.Column('verify_lookup', sa.String(length=64), nullable=True),
    sa.Column('verify_last4', sa.String(length=4), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('folios', sa.JSON(), nullable=False),
    sa.Column('disposition', sa.String(length=40), nullable=True),
    sa.Column('notes', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('waiting','taken','completed','abandoned','callback')", name=op.f('ck_handoffs_status')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_handoffs_agent_id_agents')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_handoffs_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handoffs')),
    sa.UniqueConstraint('call_sid', name=op.f('uq_handoffs_call_sid'))
    )
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.create_index('ix_handoffs_status_created', ['status', 'created_at'], unique=False)

    op.create_table('agent_audit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('handoff_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_audit_agent_id_agents')),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoffs.id'], name=op.f('fk_agent_audit_handoff_id_handoffs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_audit'))
    )
    with op.batch_alter_table('agent_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_audit_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agent_audit_handoff_id'), ['handoff_id'], unique=False)

    create_audit_triggers()


def create_audit_triggers() -> None:
    """The audit log is append-only, like the ledger: not even the app may
    rewrite what an agent did."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION agent_audit_refuse_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'the agent audit log is append-only: % refused', TG_OP;
            END $$ LANGUAGE plpgsql
        """)
        op.execute("CREATE TRIGGER agent_audit_append_only BEFORE UPDATE OR DELETE ON agent_audit "
                   "FOR EACH ROW EXECUTE FUNCTION agent_audit_refuse_change()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER agent_audit_no_{action.lower()} BEFORE {action} "
                       f"ON agent_audit BEGIN SELECT RAISE(ABORT, "
                       f"'the agent audit log is append-only: {action} refused'); END")


def drop_audit_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS agent_audit_append_only ON agent_audit")
        op.execute("DROP FUNCTION IF EXISTS agent_audit_refuse_change()")
    else:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS agent_audit_no_{action}")


def downgrade() -> None:
    drop_audit_triggers()
    with op.batch_alter_table('agent_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_audit_handoff_id'))
        batch_op.drop_index(batch_op.f('ix_agent_audit_agent_id'))

    op.drop_table('agent_audit')
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_index('ix_handoffs_status_created')

    op.drop_table('handoffs')
