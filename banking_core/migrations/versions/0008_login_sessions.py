"""login sessions: who is logged in, kept by the bank so it can end them at once

The browser holds only a random token; this table (used when REDIS_URL is not
set) keeps the session under the token's digest, with its principal, so a
log-out, a blocked credential or an agent's lockout ends every session of that
principal.

Revision ID: 0008
Revises: 0007_agent_lockout
Create Date: 2026-11-29 12:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007_agent_lockout'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('principal', sa.String(length=40), nullable=True),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('idle_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('idle_seconds', sa.Integer(), nullable=False),
    sa.CheckConstraint("channel IN ('web','desk','phone')", name=op.f('ck_login_sessions_channel')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions'))
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_login_sessions_principal', ['principal'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_login_sessions_principal')
    op.drop_table('login_sessions')
