"""The database connection /readyz and /metrics use: the app's own database,
with short timeouts, apart from the app's pool.

Apart, so a probe neither waits behind busy callers for a pooled connection
nor takes one from them; short, so a dead or hung database is reported in
seconds instead of after the operating system gives up on a connection.
No pool (NullPool): a probe every few seconds pays one connection, holds
nothing between probes, and nothing is shared across gunicorn's fork."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool

TIMEOUT_SECONDS = 2  # connecting, and each statement; load balancers probe every 5-10 s


def probe_engine(url: URL, *, statement_seconds: int = TIMEOUT_SECONDS) -> Engine:
    """An engine on the same database as `url` (the bank engine's URL, password
    included, never rendered to text). /metrics allows its statements longer
    (whole-table counts grow with the bank); connecting is always quick."""
    if url.get_backend_name() == "sqlite":
        # Plain reads: no BEGIN IMMEDIATE (banking_core/db.py takes the write
        # lock for the app's read-then-write transactions), and a short wait
        # for a locked file.
        return create_engine(url, poolclass=NullPool,
                             connect_args={"timeout": TIMEOUT_SECONDS})
    return create_engine(url, poolclass=NullPool, connect_args={
        "connect_timeout": TIMEOUT_SECONDS,
        "options": f"-c statement_timeout={statement_seconds * 1000}"})


def sqlite_file_missing(url: URL) -> bool:
    """SQLite creates a file it is asked to open: a probe must not make an
    empty database where the app's is missing."""
    database = url.database or ""
    return (url.get_backend_name() == "sqlite" and database not in ("", ":memory:")
            and not database.startswith("file:") and not Path(database).exists())
