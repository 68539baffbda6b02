"""biller reference spoken label: what the phone line says for a reference

A reference's label is written for a screen ("Periodo (MMAA)"); read aloud it
made the phone line say the parenthesis and the format letters. The optional
spoken label is what the IVR says instead ("el periodo, mes y año, cuatro
dígitos"); without one it says the label. The web keeps showing the label.

A plain nullable column: SQLite adds it without copying the table, so the
triggers of migration 0001 stay as they are.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 10:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('biller_references', sa.Column('spoken_label', sa.String(length=120),
                                                 nullable=True))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if not sqlite:
        op.drop_column('biller_references', 'spoken_label')
        return
    # SQLite drops a column by copying the table, which drops its triggers
    # (migration 0001): they are put back after the copy, as 0009 does.
    actions = (("insert", "NEW"), ("update", "NEW"), ("delete", "OLD"))
    for action, _ in actions:
        op.execute(f"DROP TRIGGER IF EXISTS biller_references_version_{action}")
    with op.batch_alter_table('biller_references', schema=None) as batch_op:
        batch_op.drop_column('spoken_label')
    for action, row in actions:
        op.execute(f"CREATE TRIGGER biller_references_version_{action} "
                   f"AFTER {action.upper()} ON biller_references BEGIN UPDATE billers "
                   f"SET version = version + 1 WHERE id = {row}.biller_id; END")
