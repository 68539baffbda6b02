"""The migrations build exactly the schema the models describe, on SQLite and
PostgreSQL: a column added to a model without its migration (or the other
way round) fails here, not on a deployed database."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from banking_core.checkdigits import REFERENCE_RULES
from banking_core.models import Base


def test_the_migrated_schema_is_the_models_schema(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def _reference(engine, **columns):
    """Insert a third reference for the demo's water biller, as the database
    takes it or refuses it; rolled back either way."""
    from sqlalchemy import insert, select

    from banking_core.models import Biller, BillerReference
    values = {**dict(position=3, label="Prueba", charset="numeric", min_length=1,
                     max_length=10, check_digit="none"), **columns}
    with engine.connect() as connection, connection.begin() as transaction:
        biller = connection.execute(
            select(Biller.id).where(Biller.service_key == "5005")).scalar_one()
        connection.execute(insert(BillerReference).values(biller_id=biller, **values))
        transaction.rollback()


@pytest.mark.parametrize("rule", sorted(REFERENCE_RULES))
def test_the_database_takes_every_check_digit_rule_the_code_knows(demo, engine, rule):
    _reference(engine, check_digit=rule)


@pytest.mark.parametrize("columns", [
    dict(check_digit="crc16"),                             # a rule nobody knows
    dict(check_digit="LUHN"),
    dict(check_digit="luhn", charset="alphanumeric"),     # digits-only on letters
    dict(check_digit="bancomer00", charset="alphanumeric"),
    dict(check_digit="paynet", max_length=1),              # no room for a check digit
])
def test_the_database_refuses_a_reference_rule_it_could_never_pass(demo, engine, columns):
    with pytest.raises(IntegrityError):
        _reference(engine, **columns)


def test_paynet_checks_alphanumeric_references(demo, engine):
    _reference(engine, check_digit="paynet", charset="alphanumeric")
