"""Migration 0015 on a bank that already has payments, down and up again:
the payments stay, the ledger's immutability triggers are back after SQLite's
table copies, and the outbox's rows still point at their payments."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from banking_core import migrate
from banking_core.db import make_engine
from tests.integration.helpers import ana, pay


def payments_are_immutable(engine):
    with engine.connect() as connection:
        for statement in ("UPDATE payments SET amount_centavos = 1", "DELETE FROM payments"):
            with pytest.raises(DatabaseError, match="immutable"):
                with connection.begin():
                    connection.execute(text(statement))


def facts(engine):
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT p.folio, p.channel, p.amount_centavos, o.kind FROM payments p "
            "JOIN outbox o ON o.payment_id = p.id ORDER BY p.id, o.kind")).all()


def test_down_and_up_again_keeps_payments_and_their_immutability(demo, database_url):
    posted = pay(demo, ana(demo), amount=12345)
    demo.engine.dispose()
    before = facts(demo.engine)
    assert before == [(posted.folio, "phone", 12345, "biller_webhook"),
                      (posted.folio, "phone", 12345, "payment_confirmation")]

    migrate.downgrade(database_url, "0014")  # just below 0015
    engine = make_engine(database_url)
    try:
        assert facts(engine) == before
        payments_are_immutable(engine)
        with engine.connect() as connection:
            columns = connection.execute(text("SELECT * FROM accounts")).keys()
        assert "spent_domiciliacion_centavos" not in columns
    finally:
        engine.dispose()

    migrate.upgrade(database_url)
    assert facts(demo.engine) == before
    payments_are_immutable(demo.engine)
    assert demo.verify().ok
