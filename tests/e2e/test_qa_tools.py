"""QA's tools, run as a tester runs them: `ivr replay`, `ivr transcripts
export`, `ivr dial`, the recordings they rely on, and a replay over HTTP."""
import dataclasses
import json
import socket
import threading
from pathlib import Path

import pytest

from linea_directa.cli import cli as ivr_cli

from banking_core.models import CallTranscript
from config.logging import configure_logging
from ivr.state import CallState, MemoryCallStore
from tests.e2e.test_call_flow import login_with_access_key, pay_wifi

SUITE = Path(__file__).resolve().parent.parent / "transcripts"


@pytest.fixture(params=["sqlite"])
def database_url(request, sqlite_url):
    return sqlite_url


@pytest.fixture(autouse=True)
def restore_logging(settings):
    yield
    configure_logging(settings, force=True)  # replay and dial quiet the logs


@pytest.fixture
def cli(ivr_app):
    runner = ivr_app.test_cli_runner()
    return lambda *args, **kw: runner.invoke(ivr_cli, args=list(args), **kw)


def write(tmp_path, name, text) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_failed_replay_shows_turn_expected_and_heard_never_a_traceback(cli, tmp_path):
    bad = write(tmp_path, "servicio.yaml", (
        'name: servicio equivocado\nsteps:\n  - press: "1"\n  - press: "10000001"\n'
        '  - press: "1357"\n  - press: "1"\n  - press: "2"\n  - press: "5"\n  - press: "2"\n'
        '  - press: "5671"\n  - press: "1"\n  - press: "1412#"\n'
        '  - ivr: "Runtime WiFi"\n'))
    junit = tmp_path / "junit.xml"
    result = cli("replay", bad, str(SUITE / "login_cuenta_saldo.yaml"), "--junit", str(junit))
    assert result.exit_code == 1
    out = result.output
    assert "Traceback" not in out
    assert "FAIL" in out and "PASS" in out and "1 passed, 1 failed" in out
    assert "step 11 (line 13), turn 11, after pressing \"1412#\":" in out
    assert "expected: text containing 'Runtime WiFi'" in out
    assert 'heard:    "La clave de servicio uno cuatro uno dos no existe.' in out
    xml = junit.read_text()
    assert 'tests="2" failures="1"' in xml and "TranscriptMismatch" in xml
    assert "coverage over 2 call(s)" in out and "never visited nodes:" in out


def test_a_malformed_transcript_is_one_line_naming_file_step_and_problem(cli, tmp_path):
    bad = write(tmp_path, "malo.yaml", "steps:\n  - press: 1357\n")
    result = cli("replay", bad)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{bad}: step 1 (line 2): press 1357: write the keys in quotes" in result.output


def test_every_call_is_recorded_without_secrets_and_exports_to_a_replayable_script(
        dial, cli, bank, tmp_path):
    call = dial()
    login_with_access_key(call)
    pay_wifi(call)
    call.press("1")
    call.press("1")
    call.press("3")
    assert call.last.hung_up and call.hang_up() == 204
    with bank.unit_of_work() as uow:
        row = uow.session.get(CallTranscript, call.call_sid)
        stored = json.dumps(row.turns, ensure_ascii=False)
    assert row.complete and row.outcome == "ivr_hung_up"
    assert "10000001" not in stored and "1357" not in stored
    secret_turns = [t for t in row.turns if t.get("secret")]
    assert [(t["secret"], t["keys"]) for t in secret_turns] == [
        ("access_key", "********"), ("nip", "****")]
    assert any(t.get("keys") == "9876543217" for t in row.turns)  # references are not secret

    exported = cli("transcripts", "export", call.call_sid)
    assert exported.exit_code == 0, exported.output
    script = exported.output
    assert 'press: "{{access_key}}"' in script and 'press: "{{nip}}"' in script
    assert 'press: "1411#"' in script and "expect_hangup" in script
    assert "Pago realizado" in script
    path = write(tmp_path, "grabada.yaml", script)
    missing = cli("replay", path)
    assert missing.exit_code == 1 and "a value for {{access_key}}" in missing.output
    replayed = cli("replay", path, "--var", "access_key=10000001", "--var", "nip=1357")
    assert replayed.exit_code == 0, replayed.output
    assert "1 passed, 0 failed" in replayed.output


def test_a_call_in_english_exports_english_expectations_and_replays(dial, cli, tmp_path):
    call = dial()
    call.press("9")
    call.press("3")
    call.press("0055500011")
    call.press("9753")
    call.press("1")
    call.press("2")
    assert call.last.hung_up and call.hang_up() == 204
    script = cli("transcripts", "export", call.call_sid).output
    assert "Your payroll account ending in" in script and "Le damos la bienvenida, Ana" not in script
    path = write(tmp_path, "english.yaml", script)
    replayed = cli("replay", path, "--var", "account_number=0055500011", "--var", "nip=9753")
    assert replayed.exit_code == 0, replayed.output


def test_export_of_an_unknown_call_says_why(cli):
    result = cli("transcripts", "export", "CA" + "0" * 32)
    assert result.exit_code == 1 and "no recorded call" in result.output


def test_the_softphone_shows_the_ivr_and_takes_keys_silence_and_hang_up(cli):
    result = cli("dial", input="1\n10000001\n1357\nx\ns\nh\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "IVR: Línea Directa, a sus órdenes." in out
    assert "[1 key] > 1" in out and "[8 keys, or fewer ended by #] > 10000001" in out
    assert "Le damos la bienvenida, Ana." in out
    assert "keys 0-9 * #" in out  # help after the stray "x"
    assert "No recibimos su respuesta" in out and "-- you hung up --" in out


def test_the_softphone_reports_a_transfer_and_ends(cli):
    result = cli("dial", input="0\n")
    assert result.exit_code == 0
    assert "-- call ended: transferred to the agents' queue 'ejecutivos' --" in result.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_replay_and_load_over_http_against_a_running_server(settings, cli):
    from werkzeug.serving import make_server

    from linea_directa.app import create_app

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(dataclasses.replace(settings, public_base_url=url),
                     call_store=MemoryCallStore())
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:  # the demo bank is in place: ivr_app (through `cli`) seeded this database
        result = cli("replay", str(SUITE / "pago_runtime_wifi.yaml"), "--target", url,
                     "--bank-url", settings.database_url)
        assert result.exit_code == 0, result.output
        assert "coverage over 1 call(s)" in result.output
        load = cli("replay", str(SUITE / "load" / "consulta_de_saldo.yaml"), "--target", url,
                   "--concurrency", "3", "--repeat", "4", "--ramp-up", "0.2", "--no-coverage")
        assert load.exit_code == 0, load.output
        assert "calls completed 4, failed 0 (3 concurrent" in load.output
        assert "p50" in load.output and "p99" in load.output and "calls/s" in load.output
        forged = cli("replay", str(SUITE / "login_cuenta_saldo.yaml"), "--target", url,
                     "--auth-token", "not-the-token")
        assert forged.exit_code == 1 and "answered 403" in forged.output
    finally:
        server.shutdown()
        app.extensions["bank"].engine.dispose()


def test_idle_call_states_are_found_for_the_sweep():
    store = MemoryCallStore(ttl=3600)
    store.save(CallState(call_sid="CA" + "1" * 32, recording=[{"turn": 1}]))
    assert [s.call_sid for s in store.idle_states(0)] == ["CA" + "1" * 32]
    assert list(store.idle_states(60)) == []


def test_a_late_sweep_never_overwrites_a_finished_recording(bank):
    from banking_core.call_transcripts import Recording, load_transcript, save_transcript

    sid = "CA" + "2" * 32
    save_transcript(bank, Recording(sid, None, None, "ivr_hung_up", True, [{"turn": 1}]))
    save_transcript(bank, Recording(sid, None, None, None, False, []))
    kept = load_transcript(bank, sid)
    assert kept.complete and kept.turns == [{"turn": 1}]


def test_the_workers_sweep_saves_an_idle_calls_recording_as_incomplete(bank):
    from banking_core.call_transcripts import load_transcript
    from linea_directa.worker import sweep_idle_calls

    store = MemoryCallStore(ttl=3600)
    sid = "CA" + "3" * 32
    store.save(CallState(call_sid=sid, recording=[{"turn": 1, "keys": "1"}]))
    assert sweep_idle_calls(store, bank, 60) == 0  # not idle long enough
    assert sweep_idle_calls(store, bank, 0) == 1
    saved = load_transcript(bank, sid)
    assert not saved.complete and saved.outcome is None and saved.turns == [{"turn": 1, "keys": "1"}]
