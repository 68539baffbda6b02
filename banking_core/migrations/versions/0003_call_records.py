"""call records: how each phone call ended, for drop-off reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 05:40:07.243291
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_records',
    sa.Column('call_sid', sa.String(length=34), nullable=False),
    sa.Column('caller', sa.String(length=20), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('login_method', sa.String(length=16), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('call_status', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('transfer_reason', sa.String(length=40), nullable=True),
    sa.Column('last_node', sa.String(length=60), nullable=True),
    sa.Column('turns', sa.Integer(), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('folios', sa.JSON(), nullable=False),
    sa.CheckConstraint("outcome IN ('ivr_hung_up','transferred','caller_hung_up')", name=op.f('ck_call_records_outcome')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_call_records_customer_id_customers')),
    sa.PrimaryKeyConstraint('call_sid', name=op.f('pk_call_records'))
    )
    with op.batch_alter_table('call_records', schema=None) as batch_op:
        batch_op.create_index('ix_call_records_ended', ['ended_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('call_records', schema=None) as batch_op:
        batch_op.drop_index('ix_call_records_ended')

    op.drop_table('call_records')
