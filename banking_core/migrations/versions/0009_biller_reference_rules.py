"""biller reference rules: only the check-digit rules the code knows, on references they can check

A misspelt rule name reached the database unchecked, and every payment to that
biller then failed on a KeyError; a digits-only rule (luhn, bancomer00) on an
alphanumeric reference, or any check digit on a one-character reference,
refused every payment. The loader refuses these with words; the database now
refuses them too. An existing row that breaks a rule stops the upgrade: fix
the biller (`ivr bank load` of a corrected file) and run it again.

The rule names are written out here, as they are at this revision: a later
rule comes with its own migration (and models.BillerReference follows
banking_core/checkdigits.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 10:00:00
"""
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

CONSTRAINTS = (
    ("check_digit", "check_digit IN ('bancomer00', 'luhn', 'none', 'paynet')"),
    ("check_digit_charset",
     "charset = 'numeric' OR check_digit NOT IN ('bancomer00', 'luhn')"),
    ("check_digit_length", "check_digit = 'none' OR max_length >= 2"),
)
# SQLite adds a constraint by copying the table, which drops its triggers:
# these (migration 0001) are put back after the copy.
SQLITE_TRIGGERS = (("insert", "NEW"), ("update", "NEW"), ("delete", "OLD"))


def upgrade() -> None:
    _without_sqlite_triggers(lambda batch_op: [
        batch_op.create_check_constraint(name, condition) for name, condition in CONSTRAINTS])


def downgrade() -> None:
    _without_sqlite_triggers(lambda batch_op: [
        batch_op.drop_constraint(op.f(f"ck_biller_references_{name}"), type_="check")
        for name, _ in reversed(CONSTRAINTS)])


def _without_sqlite_triggers(change) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for action, _ in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS biller_references_version_{action}")
    with op.batch_alter_table('biller_references', schema=None) as batch_op:
        change(batch_op)
    if sqlite:
        for action, row in SQLITE_TRIGGERS:
            op.execute(f"CREATE TRIGGER biller_references_version_{action} "
                       f"AFTER {action.upper()} ON biller_references BEGIN UPDATE billers "
                       f"SET version = version + 1 WHERE id = {row}.biller_id; END")
