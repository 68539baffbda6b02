"""The operators' command line, run as they would run it."""
import pytest
from sqlalchemy import text, update

from banking_core.models import Account
from tests.integration.helpers import ana, pay


def seeded(runner):
    result = runner.invoke(args=["bank", "seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def test_seed_demo_loads_the_readme_bank_once(runner):
    assert "4 billers, 2 customers, 4 accounts, 4 credentials, 2 agents" in seeded(runner).output
    again = runner.invoke(args=["bank", "seed-demo"])
    assert again.exit_code == 1 and "service key 1411 already exists" in again.output
    quiet = runner.invoke(args=["bank", "seed-demo", "--if-empty"])
    assert quiet.exit_code == 0 and "not loaded" in quiet.output


def test_accounts_and_services_are_listed(runner):
    seeded(runner)
    accounts = runner.invoke(args=["bank", "accounts"]).output
    assert "0012345671    cheques          $25,000.00  999180000123456711 Ana López" in accounts
    assert "CAPITAL" in accounts and "-$36,150.00" in accounts
    services = runner.invoke(args=["bank", "services"]).output.splitlines()
    assert [line.split()[0] for line in services] == ["25", "1411", "2088", "5005"]


def test_payments_are_listed_newest_first(runner, app):
    seeded(runner)
    bank = app.extensions["bank"]
    first = pay(bank, ana(bank), amount=10000)
    second = pay(bank, ana(bank), service_key="25", references=["123456789"], amount=250000)
    lines = runner.invoke(args=["bank", "payments"]).output.splitlines()
    assert lines[1].startswith(second.folio) and "$2,500.00" in lines[1]
    assert lines[2].startswith(first.folio) and "*5671" in lines[2]


def test_verify_exits_non_zero_with_a_report_when_the_ledger_is_broken(runner, app):
    seeded(runner)
    ok = runner.invoke(args=["bank", "verify"])
    assert ok.exit_code == 0 and "ledger OK" in ok.output
    with app.extensions["bank"].unit_of_work() as uow:
        uow.session.execute(update(Account).where(Account.number == "0012340002")
                            .values(balance_centavos=99))
        uow.commit()
    broken = runner.invoke(args=["bank", "verify"])
    assert broken.exit_code == 1
    assert "ledger BROKEN: 1 problem(s)" in broken.output
    assert "account 0012340002: balance 99 but its entries sum to 15000" in broken.output


def test_load_reports_the_bad_record_and_loads_nothing(runner, app, tmp_path):
    bad = tmp_path / "bank.yaml"
    bad.write_text("""
customers:
  - name: Good Customer
    email: good@example.com
    accounts: [{number: "1111111111", kind: ahorro, balance: "10.00"}]
  - name: Bad Customer
    email: bad@example.com
    accounts: [{number: "2222222222", kind: credito}]
""")
    result = runner.invoke(args=["bank", "load", str(bad)])
    assert result.exit_code == 1
    assert "customers[1] 'Bad Customer' → accounts[0] '2222222222' → kind" in result.output
    assert "Traceback" not in result.output
    with app.extensions["bank"].unit_of_work() as uow:
        assert uow.session.execute(text("SELECT count(*) FROM customers")).scalar() == 0


def test_load_refuses_a_duplicate_account_naming_it(runner, tmp_path):
    seeded(runner)
    dup = tmp_path / "dup.yaml"
    dup.write_text("""
customers:
  - name: Copy
    email: copy@example.com
    accounts: [{number: "0012345671", kind: cheques}]
""")
    result = runner.invoke(args=["bank", "load", str(dup)])
    assert result.exit_code == 1
    assert "customers[0] 'Copy' → accounts[0] '0012345671': account number already exists" \
        in result.output


def test_load_of_a_missing_file_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(args=["bank", "load", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1 and "cannot read" in result.output


def test_unblock_from_the_command_line(runner, app):
    seeded(runner)
    bank = app.extensions["bank"]
    from banking_core import errors
    for _ in range(3):
        try:
            bank.authenticate(method="card", identifier="4152310000000001", nip="0000")
        except (errors.InvalidCredentials, errors.CredentialBlocked):
            pass
    result = runner.invoke(args=["bank", "unblock", "--card", "4152310000000001"])
    assert result.exit_code == 0 and "card ending 0001 unblocked" in result.output
    assert "4152310000000001" not in result.output
    assert bank.authenticate(method="card", identifier="4152310000000001", nip="2468")
    assert runner.invoke(args=["bank", "unblock"]).exit_code == 2
    missing = runner.invoke(args=["bank", "unblock", "--access-key", "99999999"])
    assert missing.exit_code == 1 and "no such access key" in missing.output
    malformed = runner.invoke(args=["bank", "unblock", "--card", "123"])
    assert malformed.exit_code == 1 and "card must be 16 digits" in malformed.output


def test_notify_send_writes_eml_files_without_smtp(runner, app, settings):
    seeded(runner)
    bank = app.extensions["bank"]
    receipt = pay(bank, ana(bank))
    pending = runner.invoke(args=["notify", "pending"])
    assert receipt.folio in pending.output
    result = runner.invoke(args=["notify", "send"])
    assert result.exit_code == 0 and "sent 1, failed 0" in result.output
    (eml,) = settings.outbox_dir.glob("*.eml")
    assert receipt.folio in eml.read_text()
    assert runner.invoke(args=["notify", "pending"]).output == ""


def test_health_check_and_front_page(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert "Línea Directa" in client.get("/").get_data(as_text=True)


def test_calls_report_summarises_recorded_calls(runner, app):
    from banking_core.calls import CallEnd

    bank = app.extensions["bank"]
    bank.record_call_end(CallEnd(call_sid="CA" + "1" * 32, call_status="completed",
                                 outcome="caller_hung_up", last_node="amount"))
    bank.record_call_end(CallEnd(call_sid="CA" + "2" * 32, call_status="completed",
                                 outcome="transferred", transfer_reason="max_attempts",
                                 last_node="agent_transfer"))
    bank.record_call_end(CallEnd(call_sid="CA" + "3" * 32, call_status="completed",
                                 outcome="ivr_hung_up", folios=("1234567897",)))
    result = runner.invoke(args=["calls", "report"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "calls 3, with a payment 1"
    assert any(line.split() == ["max_attempts", "1"] for line in lines)
    assert any(line.split() == ["amount", "1"] for line in lines)
    later = runner.invoke(args=["calls", "report", "--since", "2999-01-01"])
    assert later.output.splitlines()[0] == "calls 0, with a payment 0"
    bad = runner.invoke(args=["calls", "report", "--since", "ayer"])
    assert bad.exit_code != 0 and "ayer" in bad.output


def test_the_serve_banner_says_how_to_dial_the_line():
    from linea_directa.cli import how_to_call

    shown = how_to_call("http://127.0.0.1:5000")
    assert shown["Call it from this terminal (softphone)"].endswith(
        "ivr dial --target http://127.0.0.1:5000")


def test_serve_on_a_taken_port_says_so_instead_of_announcing_a_server(runner, app, monkeypatch):
    import socket

    from linea_directa.cli import cli

    monkeypatch.setattr("linea_directa.cli.supervise", lambda *a, **kw: pytest.fail("started"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(cli, args=["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot serve on 127.0.0.1:{port}" in result.output
    assert f"make run PORT={port + 1}" in result.output and "serving on" not in result.output


def test_the_command_line_offers_ours_not_flasks(runner):
    from linea_directa.cli import cli

    listed = runner.invoke(cli, args=["--help"]).output
    for ours in ("bank", "db", "serve", "replay", "audio"):
        assert f"  {ours} " in listed
    for flasks in ("  run ", "  shell ", "  routes ", "--env-file", "--app"):
        assert flasks not in listed
    # Flask-Limiter's maintenance group: its limits are our settings, not commands.
    assert "  limiter " not in listed
    assert runner.invoke(cli, args=["limiter", "--help"]).exit_code != 0


def test_biller_keys_are_issued_listed_and_retired_and_a_secret_is_printed_once(runner):
    seeded(runner)
    issued = runner.invoke(args=["bank", "biller", "issue-key", "25", "--key-id", "25-2027"])
    assert issued.exit_code == 0 and "secret: " in issued.output
    secret = issued.output.split("secret: ")[1].split()[0]
    listed = runner.invoke(args=["bank", "biller", "keys", "25"]).output
    assert "25-demo" in listed and "25-2027" in listed and secret not in listed
    retired = runner.invoke(args=["bank", "biller", "retire-key", "25-demo"])
    assert retired.exit_code == 0
    assert "retired" in runner.invoke(args=["bank", "biller", "keys", "25"]).output
    again = runner.invoke(args=["bank", "biller", "retire-key", "25-demo"])
    assert again.exit_code == 1 and "no active key 25-demo" in again.output
    unknown = runner.invoke(args=["bank", "biller", "issue-key", "999"])
    assert unknown.exit_code == 1


def test_biller_addresses_are_shown_and_changed(runner):
    seeded(runner)
    shown = runner.invoke(args=["bank", "biller", "addresses", "1411"]).output
    assert "http://127.0.0.1:5001/notificaciones/1411" in shown
    changed = runner.invoke(args=["bank", "biller", "addresses", "1411", "--no-notifications",
                                  "--return-origin", "https://runtime.example"])
    assert changed.exit_code == 0 and "notification URL: (none)" in changed.output
    assert "return origins:   https://runtime.example" in changed.output
    bad = runner.invoke(args=["bank", "biller", "addresses", "1411",
                              "--notification-url", "ftp://x"])
    assert bad.exit_code == 1 and "absolute http(s) URL" in bad.output
