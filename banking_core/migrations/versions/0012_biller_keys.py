"""biller keys: the secrets billers sign with, their notification URL and return origins

Issue 16 lets a biller's site start a payment (a signed checkout request) and
tells every biller of every payment (a signed webhook). Both need a secret
shared with the biller, named by a key id so it can be rotated, and the biller's
own addresses: where payments are announced, where customers may return.

Only columns are added to `billers` (no table copy on SQLite), so its version
triggers stay as they are.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 17:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('billers', sa.Column('notification_url', sa.String(length=500), nullable=True))
    op.add_column('billers', sa.Column('return_origins', sa.JSON(), nullable=True))
    op.create_table(
        'biller_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('biller_id', sa.Integer(), nullable=False),
        sa.Column('key_id', sa.String(length=40), nullable=False),
        sa.Column('secret_sealed', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('active','retired')", name=op.f('ck_biller_keys_status')),
        sa.ForeignKeyConstraint(['biller_id'], ['billers.id'],
                                name=op.f('fk_biller_keys_biller_id_billers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_biller_keys')),
        sa.UniqueConstraint('key_id', name=op.f('uq_biller_keys_key_id')),
    )
    op.create_index(op.f('ix_biller_keys_biller_id'), 'biller_keys', ['biller_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_biller_keys_biller_id'), table_name='biller_keys')
    op.drop_table('biller_keys')
    # SQLite 3.35+ drops a column in place, so the billers' version triggers
    # (migration 0001) survive, as they would not a batch copy.
    op.drop_column('billers', 'return_origins')
    op.drop_column('billers', 'notification_url')
