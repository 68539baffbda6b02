"""One production-like stack for the module: Redis, PostgreSQL and gunicorn
(two workers) of its own, the demo bank loaded, torn down at the end."""
from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import subprocess

import pytest
from sqlalchemy import create_engine, text

from tests.faults.servers import (
    VENV_BIN, AppServer, PostgresServer, RedisServer, scratch_directory, wait_until,
)

TOKEN = "faults-twilio-token-" + "0" * 12


@dataclasses.dataclass
class Stack:
    redis: RedisServer
    postgres: PostgresServer
    app: AppServer
    env: dict

    def ivr(self, *args: str) -> subprocess.CompletedProcess:
        """`ivr …` against this stack's bank."""
        return subprocess.run([str(VENV_BIN / "ivr"), *args], env=self.env, text=True,
                              capture_output=True, timeout=120)

    def query(self, sql: str, **params) -> list:
        engine = create_engine(self.postgres.url.replace("postgresql://",
                                                         "postgresql+psycopg://"))
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql), params))
        finally:
            engine.dispose()

    def healthy(self) -> None:
        """Every server up again, and gunicorn back to two workers."""
        wait_until(lambda: self.redis.client().ping(), seconds=10, what="redis")
        wait_until(lambda: self.query("SELECT 1"), seconds=30, what="postgres")
        wait_until(lambda: len(self.app.workers()) == 2, seconds=30, what="gunicorn's workers")


@pytest.fixture(scope="module")
def stack():
    directory = scratch_directory("stack")
    redis = RedisServer(directory)
    pg_dir = directory / "pg"
    pg_dir.mkdir()
    postgres = PostgresServer(pg_dir)
    env = {
        **os.environ, "IVR_ENV": "test", "IVR_INSTANCE_PATH": str(directory / "instance"),
        "DATABASE_URL": postgres.url, "REDIS_URL": redis.url, "TWILIO_AUTH_TOKEN": TOKEN,
        "SECRET_KEY": secrets.token_hex(32), "NIP_PEPPER": secrets.token_hex(32),
        "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "64",
        "AGENT_HOURS": "mon-sun 00:00-24:00", "LOG_LEVEL": "INFO",
    }
    app = AppServer(directory, env)
    env["PUBLIC_BASE_URL"] = app.base_url
    started = []
    try:
        redis.start()
        started.append(redis.stop)
        postgres.init()
        started.append(lambda: postgres.stop("immediate"))
        built = Stack(redis=redis, postgres=postgres, app=app, env=env)
        for command in (("db", "upgrade"), ("bank", "seed-demo")):
            done = built.ivr(*command)
            assert done.returncode == 0, done.stdout + done.stderr
        app.start()
        started.append(app.stop)
        yield built
    finally:
        for stop in reversed(started):
            try:
                stop()
            except Exception:  # noqa: BLE001 - a server a test left down
                pass
        shutil.rmtree(directory, ignore_errors=True)
