"""Reaching the real PostgreSQL and Redis servers the integration tests use.

Under CI (CI or IVR_REQUIRE_SERVICES set) an unreachable server fails the tests
that need it; elsewhere they are skipped, and the run's summary says so.
"""
from __future__ import annotations

import os
import uuid

import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

def services_required() -> bool:
    return any(os.environ.get(name, "").lower() not in ("", "0", "false")
               for name in ("CI", "IVR_REQUIRE_SERVICES"))


def unavailable(service: str, url: str, exc: Exception):
    message = f"{service} unreachable at {url}: {type(exc).__name__}: {exc}"
    if services_required():
        pytest.fail(f"{message} (CI requires it; .ci/run starts it)", pytrace=False)
    pytest.skip(message)


def redis_client(**options):
    """A client of the test Redis, once it answers (else skipped, or failed
    under CI, by `unavailable`)."""
    import redis as redis_lib
    client = redis_lib.Redis.from_url(REDIS_URL, **options)
    try:
        client.ping()
    except redis_lib.RedisError as exc:
        client.close()
        unavailable("Redis", REDIS_URL, exc)
    return client


def postgres_admin_engine():
    from banking_core.db import make_engine

    return make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_size=1)


def create_postgres_database() -> str:
    """A fresh database for this test run; returns its URL."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = f"ivr_test_{uuid.uuid4().hex[:12]}"
    admin = postgres_admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)) \
        .set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = postgres_admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
