"""/healthz says the process is alive; /readyz checks, for real, what serving
needs — the database, Redis when configured, the migrations, the outbox's
backlog — naming what failed, on SQLite and on PostgreSQL."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from banking_core import migrate
from banking_core.models import OutboxMessage
from config.logging import configure_logging
from linea_directa.app import create_app
from tests import services
from tests.ops.helpers import closed_port


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, database_url):
    return database_url


@pytest.fixture(autouse=True)
def logs_at_the_settings_level(settings):
    # Logging is process-wide: an earlier test (an in-process `ivr replay`
    # sets ERROR) must not hide the warnings these tests read.
    configure_logging(settings, force=True)


def app_with(settings, **changes):
    app = create_app(dataclasses.replace(settings, **changes))
    app.config.update(TESTING=True)
    return app


def readyz(app):
    response = app.test_client().get("/readyz")
    return response.status_code, response.get_json()


def queue_emails(app, count: int) -> None:
    bank = app.extensions["bank"]
    now = dt.datetime.now(dt.timezone.utc)
    with bank.unit_of_work() as uow:
        for n in range(count):
            uow.session.add(OutboxMessage(kind="payment_receipt", recipient=f"c{n}@example.com",
                                          payload={}, status="pending", attempts=0,
                                          next_attempt_at=now, created_at=now))
        uow.commit()


def test_ready_when_everything_answers(app):
    status, body = readyz(app)
    assert status == 200 and body["status"] == "ok" and body["failed"] == []
    assert {name for name, check in body["checks"].items() if check["ok"]} == {
        "database", "migrations", "outbox", "redis"}
    assert body["checks"]["migrations"]["database"] == sorted(migrate.code_heads())
    assert body["checks"]["outbox"]["pending"] == 0
    assert body["checks"]["redis"]["configured"] is False


def test_ready_with_redis_configured(settings):
    services.redis_client().close()  # it answers (else skipped, or failed under CI)
    status, body = readyz(app_with(settings, redis_url=services.REDIS_URL))
    assert status == 200 and body["checks"]["redis"]["ok"] is True


def test_the_health_check_touches_no_database(settings, capsys):
    """Alive means the process answers: a database outage must not have every
    instance restarted by its supervisor."""
    url = f"postgresql://probe:s3cret-pass@127.0.0.1:{closed_port()}/bank"
    app = app_with(settings, database_url=url)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_database_unreachable(settings, capsys):
    url = f"postgresql://probe:s3cret-pass@127.0.0.1:{closed_port()}/bank"
    status, body = readyz(app_with(settings, database_url=url))
    assert status == 503 and body["status"] == "fail"
    assert body["failed"] == ["database", "migrations", "outbox"]
    assert body["checks"]["database"]["error"] == "unreachable: OperationalError"
    assert body["checks"]["outbox"]["error"] == "not checked: database unreachable"
    logged = capsys.readouterr().err
    assert "not_ready" in logged
    assert "s3cret-pass" not in str(body) and "s3cret-pass" not in logged


def test_a_missing_sqlite_file_is_unreachable_and_not_created(settings, tmp_path):
    missing = tmp_path / "nowhere" / "bank.db"
    status, body = readyz(app_with(settings, database_url=f"sqlite:///{missing}"))
    assert status == 503 and body["failed"][0] == "database"
    assert not missing.exists()


def test_redis_down(app, settings, capsys):
    url = f"redis://:r3dis-pass@127.0.0.1:{closed_port()}/0"
    status, body = readyz(app_with(settings, redis_url=url))
    assert status == 503 and body["failed"] == ["redis"]
    assert body["checks"]["redis"]["error"] == "unreachable: ConnectionError"
    assert body["checks"]["database"]["ok"] is True
    assert "r3dis-pass" not in str(body) and "r3dis-pass" not in capsys.readouterr().err


@pytest.fixture
def stamped_behind(database_url):
    """The database says it is one revision behind the code (as after a deploy
    that skipped `ivr db upgrade`); put back at the head afterwards, since the
    PostgreSQL database is the run's."""
    head, = migrate.code_heads()
    config = migrate.alembic_config(database_url)
    previous = ScriptDirectory.from_config(config).get_revision(head).down_revision
    command.stamp(config, previous, purge=True)
    yield previous
    command.stamp(config, head, purge=True)


def test_migrations_behind(app, stamped_behind):
    status, body = readyz(app)
    assert status == 503 and body["failed"] == ["migrations"]
    check = body["checks"]["migrations"]
    assert check["database"] == [stamped_behind] and check["code"] == sorted(migrate.code_heads())
    assert "ivr db upgrade" in check["error"]


def test_a_database_never_migrated(settings, tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    status, body = readyz(app_with(settings, database_url=f"sqlite:///{empty}"))
    assert status == 503 and body["failed"] == ["migrations", "outbox"]
    assert body["checks"]["migrations"]["error"].startswith("not migrated")
    assert body["checks"]["outbox"]["error"] == "query failed: OperationalError"


def test_outbox_backlog_over_the_threshold(settings):
    app = app_with(settings, readyz_max_outbox_pending=2)
    queue_emails(app, 2)
    status, body = readyz(app)
    assert status == 200 and body["checks"]["outbox"]["pending"] == 2  # at the limit: ready
    queue_emails(app, 1)
    status, body = readyz(app)
    assert status == 503 and body["failed"] == ["outbox"]
    assert body["checks"]["outbox"] == {**body["checks"]["outbox"], "ok": False,
                                        "pending": 3, "limit": 2}
    assert "ivr notify send" in body["checks"]["outbox"]["error"]
