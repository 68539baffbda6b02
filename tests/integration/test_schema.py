"""The migrations build exactly the schema the models describe, on SQLite and
PostgreSQL: a column added to a model without its migration (or the other
way round) fails here, not on a deployed database."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from banking_core.models import Base


def test_the_migrated_schema_is_the_models_schema(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
