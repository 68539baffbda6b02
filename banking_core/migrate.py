"""Running the migrations from code (`ivr db upgrade`, tests, `make run`)."""
from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str, connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's ini interpolation would read a "%" in a password as a variable.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    if database_url.startswith("sqlite:///"):
        Path(database_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current(database_url: str) -> None:
    command.current(alembic_config(database_url), verbose=True)


@functools.cache
def code_heads() -> frozenset[str]:
    """The revisions this code's migrations end at (read once: they ship with it)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


def database_heads(connection) -> frozenset[str]:
    """The revisions a database is at; empty when it was never migrated. Read
    straight from Alembic's table: its MigrationContext logs two lines each
    time, and /readyz asks every few seconds."""
    if not inspect(connection).has_table("alembic_version"):
        return frozenset()
    return frozenset(connection.scalars(text("SELECT version_num FROM alembic_version")))
