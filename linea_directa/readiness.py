"""/readyz's checks: can this instance serve calls and payments right now?

The database answers a query; Redis answers a PING when REDIS_URL is set (call
state, sessions and rate limits live there); the database is at the code's
Alembic revision (a deploy that skipped `ivr db upgrade` fails here rather than
on a caller's payment); the outbox's pending e-mails are under
READYZ_MAX_OUTBOX_PENDING (the worker is down or the mail server refuses).

Each check says what failed in words and an exception's class name, never
its message: a connection error may quote the URL, password included."""
from __future__ import annotations

import dataclasses
import time

import redis
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from banking_core import migrate
from banking_core.biller_notifications import KIND as WEBHOOK_KIND
from banking_core.models import OutboxMessage
from linea_directa.probe_engine import sqlite_file_missing

REDIS_TIMEOUT_SECONDS = 1  # a local Redis answers a PING in well under a millisecond


@dataclasses.dataclass
class Check:
    ok: bool
    error: str | None = None  # what failed, in words a runbook can look up
    ms: float = 0.0
    details: dict = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict:
        out = {"ok": self.ok, "ms": round(self.ms, 1), **self.details}
        if self.error:
            out["error"] = self.error
        return out


def _error_name(exc: BaseException) -> str:
    """The driver's exception class (psycopg's, sqlite3's, redis's), not SQLAlchemy's wrapper."""
    return type(getattr(exc, "orig", None) or exc).__name__


def check_database(engine: Engine, *, max_outbox_pending: int) -> dict[str, Check]:
    """The database, its migrations and the outbox, on one connection: when it
    cannot be reached the other two say they were not checked."""
    started = time.perf_counter()
    if sqlite_file_missing(engine.url):
        return _database_down("unreachable: the SQLite file does not exist", started)
    try:
        connection = engine.connect()
        connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure is what this check reports
        return _database_down(f"unreachable: {_error_name(exc)}", started)
    checks = {"database": Check(ok=True, ms=(time.perf_counter() - started) * 1000)}
    with connection:
        checks["migrations"] = _timed(_check_migrations, connection)
        checks["outbox"] = _timed(_check_outbox, connection, max_outbox_pending)
    return checks


def _database_down(error: str, started: float) -> dict[str, Check]:
    ms = (time.perf_counter() - started) * 1000
    return {"database": Check(ok=False, error=error, ms=ms),
            "migrations": Check(ok=False, error="not checked: database unreachable"),
            "outbox": Check(ok=False, error="not checked: database unreachable")}


def _timed(check, *args) -> Check:
    started = time.perf_counter()
    try:
        result = check(*args)
    except Exception as exc:  # noqa: BLE001 - a failed query fails its check, not /readyz
        result = Check(ok=False, error=f"query failed: {_error_name(exc)}")
    result.ms = (time.perf_counter() - started) * 1000
    return result


def _check_migrations(connection) -> Check:
    code, database = migrate.code_heads(), migrate.database_heads(connection)
    details = {"database": sorted(database), "code": sorted(code)}
    if database == code:
        return Check(ok=True, details=details)
    if not database:
        return Check(ok=False, error="not migrated: run `ivr db upgrade`", details=details)
    return Check(ok=False, error="database revision differs from the code's: "
                 "run `ivr db upgrade` (or deploy the code that matches)", details=details)


def _check_outbox(connection, limit: int) -> Check:
    # E-mails only: a biller's site that is down delays its own webhooks
    # (counted by /metrics), never whether this instance can serve.
    pending = connection.scalar(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.status == "pending",
                                       OutboxMessage.kind != WEBHOOK_KIND))
    details = {"pending": pending, "limit": limit}
    if pending > limit:
        return Check(ok=False, error="backlog over the limit: is `ivr notify send --loop` "
                     "running, and can it reach the mail server?", details=details)
    return Check(ok=True, details=details)


def redis_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                socket_timeout=REDIS_TIMEOUT_SECONDS)


def check_redis(client: redis.Redis | None) -> Check:
    if client is None:
        return Check(ok=True, details={"configured": False})
    started = time.perf_counter()
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure is what this check reports
        return Check(ok=False, error=f"unreachable: {_error_name(exc)}",
                     ms=(time.perf_counter() - started) * 1000)
    return Check(ok=True, ms=(time.perf_counter() - started) * 1000)
