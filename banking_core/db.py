"""Engines and sessions, built on request (never at import time)."""
from __future__ import annotations

import contextlib
import contextvars
import time

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

# True while a caller that handles a dropped connection itself checks one out.
_skip_pre_ping = contextvars.ContextVar("skip_pre_ping", default=False)


class _Pool(QueuePool):
    """QueuePool whose pre-ping a checkout may go without (`without_pre_ping`).

    The pre-ping is a round trip (SELECT 1) before every checkout: on a payment,
    which is one round trip itself, it was about a fifth of the client's CPU.
    SQLAlchemy reads the pool's `_pre_ping` at each checkout; here it is also
    False while the current context asked to skip it.
    """

    @property
    def _pre_ping(self) -> bool:
        return self._pre_ping_wanted and not _skip_pre_ping.get()

    @_pre_ping.setter
    def _pre_ping(self, value: bool) -> None:
        self._pre_ping_wanted = value

    def recreate(self):
        # The pool that replaces this one (engine.dispose()) keeps pinging.
        token = _skip_pre_ping.set(False)
        try:
            return super().recreate()
        finally:
            _skip_pre_ping.reset(token)


@contextlib.contextmanager
def without_pre_ping():
    """Connections checked out inside skip the pool's pre-ping. Only for a
    caller whose work is idempotent and that, when the connection turns out to
    be dead (a server restart, a failover), runs it again on a pinged one."""
    token = _skip_pre_ping.set(True)
    try:
        yield
    finally:
        _skip_pre_ping.reset(token)


def make_engine(url: str, **options) -> Engine:
    if url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; a bare postgresql:// would ask for psycopg2.
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **options)
    options.setdefault("pool_pre_ping", True)
    if "pool" not in options:
        options.setdefault("poolclass", _Pool)
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    return create_engine(url, **options)


def _sqlite_engine(url: str, **options) -> Engine:
    # pysqlite's own transaction handling defers BEGIN and can't say IMMEDIATE;
    # switch it off and emit BEGIN IMMEDIATE ourselves, so read-then-write
    # transactions (check the balance, then debit it) take the write lock first.
    options.setdefault("connect_args", {}).update(check_same_thread=False, timeout=30)
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if ":memory:" not in url and "mode=memory" not in url:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


def when_reachable(work, *, within: float = 5.0):
    """`work()`, run again while the database cannot be reached (restarting,
    failing over: a refused connection, a dropped one) for up to `within`
    seconds, then the error. Only for work that is safe to run twice (writes
    that find what an earlier run committed): a connection lost while
    committing leaves unknown whether the commit happened."""
    deadline, pause = time.monotonic() + within, 0.1
    while True:
        try:
            return work()
        except (OperationalError, InterfaceError):
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
