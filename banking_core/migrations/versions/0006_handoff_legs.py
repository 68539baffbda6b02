"""handoff legs: where the caller's leg is, and the Twilio names that reach it

A hand-off is "waiting" only once Twilio has really enqueued the caller (the
queue's wait URL says so), so it starts as "transferring". The desk bridges an
agent to exactly this call: the queue and CallSid address the caller, the
hand-off's conference joins the two legs, and `caller_at` says where the caller
is now (the IVR, the queue, with the agent, keying a NIP, or gone).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('waiting','taken','completed','abandoned','callback')"
NEW_STATUSES = "status IN ('transferring','waiting','taken','completed','abandoned','callback')"
CALLER_AT = "caller_at IN ('ivr','queue','agent','verifying','gone')"


def upgrade() -> None:
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_handoffs_status'), type_='check')
        batch_op.create_check_constraint('status', NEW_STATUSES)
        batch_op.add_column(sa.Column('caller_at', sa.String(length=12), nullable=False,
                                      server_default='ivr'))
        batch_op.create_check_constraint('caller_at', CALLER_AT)
        batch_op.add_column(sa.Column('queue_sid', sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('agent_call_sid', sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column('conference_sid', sa.String(length=34), nullable=True))
        batch_op.add_column(sa.Column('agent_on_hold', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index('ix_handoffs_status_enqueued', ['status', 'enqueued_at'],
                              unique=False)
    # Hand-offs from before: a waiting or taken one was in the queue; the rest are over.
    op.execute("UPDATE handoffs SET enqueued_at = created_at, caller_at = 'queue' "
               "WHERE status IN ('waiting', 'taken')")
    op.execute("UPDATE handoffs SET caller_at = 'gone' "
               "WHERE status NOT IN ('waiting', 'taken')")


def downgrade() -> None:
    op.execute("UPDATE handoffs SET status = 'abandoned' WHERE status = 'transferring'")
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_index('ix_handoffs_status_enqueued')
        batch_op.drop_column('agent_on_hold')
        batch_op.drop_column('conference_sid')
        batch_op.drop_column('agent_call_sid')
        batch_op.drop_column('enqueued_at')
        batch_op.drop_column('queue_sid')
        batch_op.drop_constraint(op.f('ck_handoffs_caller_at'), type_='check')
        batch_op.drop_column('caller_at')
        batch_op.drop_constraint(op.f('ck_handoffs_status'), type_='check')
        batch_op.create_check_constraint('status', OLD_STATUSES)
