"""call transcripts: what each phone call heard and keyed, for QA replays

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 06:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('call_transcripts',
    sa.Column('call_sid', sa.String(length=34), nullable=False),
    sa.Column('caller', sa.String(length=20), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.Column('turns', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('call_sid', name=op.f('pk_call_transcripts'))
    )
    with op.batch_alter_table('call_transcripts', schema=None) as batch_op:
        batch_op.create_index('ix_call_transcripts_saved', ['saved_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('call_transcripts', schema=None) as batch_op:
        batch_op.drop_index('ix_call_transcripts_saved')

    op.drop_table('call_transcripts')
