"""checkout orders: a biller's signed payment request, once per order id

Issue 16 (seed 001): a biller's site sends its customer to Conexión Personal
with a signed request; the bank keeps it here, one row per biller and order id,
bound to the customer who opens it and marked paid in the payment's own
transaction (banking_core/checkout.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 19:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'checkout_orders',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('token_digest', sa.String(length=64), nullable=False),
        sa.Column('biller_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.String(length=64), nullable=False),
        sa.Column('key_id', sa.String(length=40), nullable=False),
        sa.Column('reference1', sa.String(length=40), nullable=False),
        sa.Column('reference2', sa.String(length=40), nullable=True),
        sa.Column('reference3', sa.String(length=40), nullable=True),
        sa.Column('amount_centavos', sa.BigInteger(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('return_url', sa.String(length=500), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=9), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=True),
        sa.Column('folio', sa.String(length=10), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending','paid','cancelled','expired')",
                           name=op.f('ck_checkout_orders_status')),
        sa.CheckConstraint('amount_centavos > 0', name=op.f('ck_checkout_orders_positive')),
        sa.ForeignKeyConstraint(['biller_id'], ['billers.id'],
                                name=op.f('fk_checkout_orders_biller_id_billers')),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'],
                                name=op.f('fk_checkout_orders_customer_id_customers')),
        sa.ForeignKeyConstraint(['payment_id'], ['payments.id'],
                                name=op.f('fk_checkout_orders_payment_id_payments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_checkout_orders')),
        sa.UniqueConstraint('biller_id', 'order_id', name='uq_checkout_orders_biller_order'),
        sa.UniqueConstraint('payment_id', name=op.f('uq_checkout_orders_payment_id')),
        sa.UniqueConstraint('token_digest', name=op.f('uq_checkout_orders_token_digest')),
    )


def downgrade() -> None:
    op.drop_table('checkout_orders')
