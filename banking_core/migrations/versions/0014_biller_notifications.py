"""biller notifications: every payment to a biller with a notification URL
queues a signed webhook in the outbox, in the payment's own transaction

A trigger on `payments` INSERT adds an outbox row of kind `biller_webhook`
(payment id, the biller's URL) when the payment's biller has a notification
URL. Both posting paths (the PostgreSQL function of 0002 and the statement
path) and every channel, present or future, insert a payment row: none of them
has to remember. The JSON is rendered at delivery time from the immutable
payment (banking_core/biller_notifications.py).

The outbox also gets: `recipient` as long as a notification URL (500), the
dead-letter status `failed` (a webhook nobody took for days: visible, counted,
replayable), an index for each sender's due rows by kind, one by payment (the
auditor and the replay look rows up by payment), and two on payments for the
billers' queries (the collection file by day, the API by reference).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BEFORE = "status IN ('pending','sent')"
AFTER = "status IN ('pending','sent','failed')"

PG_FUNCTION = """
CREATE FUNCTION payments_queue_biller_webhook() RETURNS trigger AS $$
BEGIN
    INSERT INTO outbox (kind, payment_id, recipient, payload, status, attempts,
                        next_attempt_at, created_at)
    SELECT 'biller_webhook', NEW.id, b.notification_url,
           '{"event": "payment.posted"}'::json, 'pending', 0, NEW.posted_at, NEW.posted_at
      FROM billers b
     WHERE b.id = NEW.biller_id AND b.notification_url IS NOT NULL;
    RETURN NULL;
END $$ LANGUAGE plpgsql
"""

SQLITE_TRIGGER = """
CREATE TRIGGER payments_queue_biller_webhook AFTER INSERT ON payments
BEGIN
    INSERT INTO outbox (kind, payment_id, recipient, payload, status, attempts,
                        next_attempt_at, created_at)
    SELECT 'biller_webhook', NEW.id, b.notification_url, '{"event": "payment.posted"}',
           'pending', 0, NEW.posted_at, NEW.posted_at
      FROM billers b
     WHERE b.id = NEW.biller_id AND b.notification_url IS NOT NULL;
END
"""


def _outbox(recipient_length: int, status_rule: str) -> None:
    # SQLite changes a column and a constraint by copying the table (the
    # outbox has no triggers of its own; the new one is on payments).
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('recipient', existing_type=sa.String(), nullable=False,
                              type_=sa.String(length=recipient_length))
        batch_op.drop_constraint(op.f('ck_outbox_status'), type_='check')
        batch_op.create_check_constraint('status', status_rule)


def upgrade() -> None:
    _outbox(500, AFTER)
    op.create_index('ix_outbox_kind_due', 'outbox', ['kind', 'status', 'next_attempt_at'])
    op.create_index(op.f('ix_outbox_payment_id'), 'outbox', ['payment_id'])
    op.create_index('ix_payments_biller_posted', 'payments', ['biller_id', 'posted_at'])
    op.create_index('ix_payments_biller_reference', 'payments', ['biller_id', 'reference1'])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute("CREATE TRIGGER payments_queue_biller_webhook AFTER INSERT ON payments "
                   "FOR EACH ROW EXECUTE FUNCTION payments_queue_biller_webhook()")
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS payments_queue_biller_webhook ON payments")
        op.execute("DROP FUNCTION IF EXISTS payments_queue_biller_webhook()")
    else:
        op.execute("DROP TRIGGER IF EXISTS payments_queue_biller_webhook")
    op.drop_index('ix_payments_biller_reference', table_name='payments')
    op.drop_index('ix_payments_biller_posted', table_name='payments')
    op.drop_index(op.f('ix_outbox_payment_id'), table_name='outbox')
    op.drop_index('ix_outbox_kind_due', table_name='outbox')
    # The webhooks go with the feature (the older schema cannot hold a URL
    # recipient of 500 characters nor a failed row).
    op.execute("DELETE FROM outbox WHERE kind = 'biller_webhook'")
    _outbox(254, BEFORE)
