"""`ivr replay --target URL` checks what the bank says in the server's bank:
the one given with --bank-url, never this checkout's DATABASE_URL by accident
(which once reported a false FAIL: the payment was in the server's bank, the
check looked in another). Without --bank-url the checks are skipped, and said
so. The server is a real `ivr serve` process on a database of its own."""
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from banking_core import loader
from banking_core.models import Payment
from linea_directa.app import create_app
from linea_directa.cli import cli as ivr_cli
from tests.served import AUTH_TOKEN, Served

PAYMENT = str(Path(__file__).resolve().parent.parent / "transcripts" / "pago_runtime_wifi.yaml")

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc (Linux)")


@pytest.fixture(params=["sqlite"])
def database_url(request, sqlite_url):
    return sqlite_url  # the replaying side's own bank: another one than the server's


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    served = Served(tmp_path_factory.mktemp("served")).prepare().start("--no-worker")
    yield served
    served.kill()


@pytest.fixture
def replay(settings, monkeypatch):
    """`ivr replay` run here, whose own DATABASE_URL is a demo bank of its own."""
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    app = create_app(settings)
    loader.seed_demo(app.extensions["bank"])
    runner = app.test_cli_runner()
    yield app, lambda *args: runner.invoke(ivr_cli, args=["replay", *args,
                                                          "--auth-token", AUTH_TOKEN])
    app.extensions["bank"].engine.dispose()


def payments(app) -> int:
    with app.extensions["bank"].unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(Payment))


def test_without_a_bank_url_the_bank_side_checks_are_skipped_and_said_so(server, replay):
    app, run = replay
    result = run(PAYMENT, "--target", server.url)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("note: bank-side checks will be skipped: the server's bank was "
                          "not read (give --bank-url")
    assert "PASS" in out and "2 bank-side check(s) skipped)" in out
    assert "1 passed, 0 failed" in out and "\n2 bank-side check(s) skipped: " in out
    assert "coverage unavailable" in out and "give --bank-url" in out
    assert payments(app) == 0  # the local bank was neither changed nor read as the server's


def test_with_the_servers_bank_url_the_checks_are_made_there(server, replay):
    _, run = replay
    result = run(PAYMENT, "--target", server.url, "--bank-url", server.database_url)
    assert result.exit_code == 0, result.output
    assert "skipped" not in result.output
    assert "1 passed, 0 failed" in result.output and "coverage over 1 call(s)" in result.output


def test_checks_are_really_made_against_the_bank_given(server, replay, settings):
    _, run = replay
    result = run(PAYMENT, "--target", server.url, "--bank-url", settings.database_url)
    assert result.exit_code == 1
    assert "payment: no payment with folio" in result.output  # another bank: it is not there


def test_a_bank_url_that_is_no_bank_stops_the_replay_in_one_line(server, replay, tmp_path):
    _, run = replay
    missing = tmp_path / "nowhere.db"
    result = run(PAYMENT, "--target", server.url, "--bank-url", f"sqlite:///{missing}")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"--bank-url: no SQLite database at {missing}" in result.output
    assert not missing.exists()  # not created by trying
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    result = run(PAYMENT, "--target", server.url, "--bank-url", f"sqlite:///{empty}")
    assert result.exit_code == 1
    assert "--bank-url: cannot read a bank at sqlite:///" in result.output
    assert "is it the server's migrated database?" in result.output
    result = run(PAYMENT, "--bank-url", f"sqlite:///{empty}")
    assert result.exit_code == 2 and "--bank-url is the bank of the server given with --target" \
        in result.output
