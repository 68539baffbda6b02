"""call outcome state_lost: a call whose state the IVR lost

A turn that finds its call's state gone (Redis flushed or restarted, the state
expired) no longer hangs up: the caller hears an apology and goes to an agent
(ivr/lost_state.py), and the call's record says so with its own outcome, so
these calls are counted instead of passing for callers who hung up.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 10:00:00
"""
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

BEFORE = "outcome IN ('ivr_hung_up','transferred','caller_hung_up')"
AFTER = "outcome IN ('ivr_hung_up','transferred','caller_hung_up','state_lost')"


def _outcomes(condition: str) -> None:
    # SQLite changes a constraint by copying the table (call_records has no triggers).
    with op.batch_alter_table('call_records', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_call_records_outcome'), type_='check')
        batch_op.create_check_constraint('outcome', condition)


def upgrade() -> None:
    _outcomes(AFTER)


def downgrade() -> None:
    # Records are kept: the reason stays in transfer_reason ('state_lost').
    op.execute("UPDATE call_records SET transfer_reason = 'state_lost', outcome = CASE "
               "WHEN transfer_reason IS NULL THEN 'caller_hung_up' ELSE 'transferred' END "
               "WHERE outcome = 'state_lost'")
    _outcomes(BEFORE)
