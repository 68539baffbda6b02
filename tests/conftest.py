from __future__ import annotations

import datetime as dt
import shutil

import pytest
from sqlalchemy import text

from banking_core import loader, migrate, posting
from banking_core.bank import Bank
from banking_core.db import make_engine, make_session_factory
from banking_core.models import Base
from banking_core.policy import BankPolicy
from banking_core.secrets import SecretHasher
from config import Settings
from tests import services

# Every table the models declare, so a new table is emptied between tests too
# (a hand-kept list missed call_transcripts and login_failures).
TABLES = tuple(table.name for table in Base.metadata.sorted_tables)
TEST_PEPPER = "test-pepper-0123456789abcdef0123456789"


class FakeClock:
    """A clock the test moves by hand; starts at the real now."""

    def __init__(self, now: dt.datetime | None = None):
        self.now = now or dt.datetime.now(dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, when: dt.datetime) -> None:
        self.now = when

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture(scope="session")
def hasher():
    # Cheap Argon2 parameters: the tests exercise the logic, not the cost.
    return SecretHasher(pepper=TEST_PEPPER, time_cost=1, memory_kib=64)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database():
    try:
        url = services.create_postgres_database()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        services.unavailable("PostgreSQL", services.POSTGRES_URL, exc)
    migrate.upgrade(url)
    yield url
    services.drop_postgres_database(url)


@pytest.fixture(params=["sqlite", "postgres", "postgres-statements"])
def database_url(request, tmp_path, sqlite_template, monkeypatch):
    """Each integration test runs on a fresh SQLite file and on real PostgreSQL,
    there once with each posting implementation (banking_core/posting.py)."""
    if request.param == "postgres-statements":
        monkeypatch.setattr(posting, "FUNCTION_ENABLED", False)
    if request.param == "sqlite":
        path = tmp_path / "bank.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_database")
    engine = make_engine(url, pool_size=1)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template):
    path = tmp_path / "bank.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url, **({} if database_url.startswith("sqlite")
                                          else {"pool_size": 60, "max_overflow": 10}))
    yield engine
    engine.dispose()


@pytest.fixture
def bank(engine, hasher, clock):
    return Bank(session_factory=make_session_factory(engine), hasher=hasher,
                policy=BankPolicy(), clock=clock)


@pytest.fixture
def demo(bank):
    """The demo bank of the README, loaded."""
    loader.seed_demo(bank)
    return bank


@pytest.fixture
def settings(tmp_path, database_url):
    return Settings.from_env({
        "IVR_ENV": "test",
        "IVR_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "NIP_PEPPER": TEST_PEPPER,
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "64",
    })


@pytest.fixture
def app(settings):
    from linea_directa.app import create_app

    app = create_app(settings)
    app.config.update(TESTING=True)
    yield app
    app.extensions["bank"].session_factory.kw["bind"].dispose()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def client(app):
    return app.test_client()


def pytest_terminal_summary(terminalreporter):
    unreachable = {}
    for report in terminalreporter.stats.get("skipped", []):
        text = str(report.longrepr)
        for service in ("PostgreSQL", "Redis"):
            if f"{service} unreachable" in text:
                unreachable[service] = unreachable.get(service, 0) + 1
    for service, count in unreachable.items():
        terminalreporter.write_line(
            f"NOTE: {count} test(s) skipped because {service} was unreachable; "
            "CI requires it (.ci/run starts it).", yellow=True,
        )


@pytest.fixture(scope="module")
def chromium():
    from tests.browser import launched_chromium

    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def page(chromium):
    """A page in a fresh context; any Content-Security-Policy violation in it
    (its pop-ups included) fails the test: the pages must work under the policy."""
    from tests.browser import watch_policy_violations

    context = chromium.new_context(locale="es-MX")
    violations = watch_policy_violations(context)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert violations == [], "Content-Security-Policy violations:\n" + "\n".join(violations)
