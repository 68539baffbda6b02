"""agent lockout: the agents' failure counter and lock on their row; failed log-ins

An agent's failed log-ins were counted from audit rows, so concurrent tries
all read the same count and more than the limit got through. The count and the
lock now live on `agents` and move in one conditional UPDATE, like the
customers' NIP counter. `login_failures` logs every failed customer log-in,
also for identifiers that do not exist (the write makes an unknown key cost
what a real failure costs, and a burst of them shows someone guessing).

Revision ID: 0007_agent_lockout
Revises: 0006
Create Date: 2026-12-02 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_agent_lockout'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_check_constraint('failed_logins', 'failed_logins >= 0')
    op.create_table('login_failures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("reason IN ('unknown','malformed','wrong_nip','blocked')",
                       name=op.f('ck_login_failures_reason')),
    sa.ForeignKeyConstraint(['credential_id'], ['credentials.id'],
                            name=op.f('fk_login_failures_credential_id_credentials')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failures_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_failures_credential_id'), ['credential_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_credential_id'))
        batch_op.drop_index(batch_op.f('ix_login_failures_at'))
    op.drop_table('login_failures')
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_agents_failed_logins'), type_='check')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')
