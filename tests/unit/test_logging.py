import json

import structlog

from config import Settings
from config.logging import configure_logging, redact_secrets


def test_secret_keys_are_dropped_and_long_digit_runs_masked():
    event = redact_secrets(None, "info", {
        "event": "login card 4152310000000001 tried",
        "nip": "1357", "access_key": "10000001", "Password": "x",
        "context": {"card_number": "4152310000000001", "note": "acct 0012345671"},
        "account_last4": "5671",
    })
    assert event["nip"] == event["access_key"] == event["Password"] == "[redacted]"
    assert event["event"] == "login card ************0001 tried"
    assert event["context"] == {"card_number": "[redacted]", "note": "acct ******5671"}
    assert event["account_last4"] == "5671"


def test_production_logs_are_json_without_secrets(capsys):
    settings = Settings.from_env({"IVR_ENV": "production", "NIP_PEPPER": "p" * 40,
                                  "SECRET_KEY": "s" * 40, "TWILIO_AUTH_TOKEN": "t" * 32,
                                  "PUBLIC_BASE_URL": "https://linea.example.mx"})
    configure_logging(settings, force=True)
    try:
        structlog.get_logger().info("login_failed", nip="2468", card="4152310000000001")
        line = capsys.readouterr().err.strip().splitlines()[-1]
        record = json.loads(line)
        assert record["event"] == "login_failed" and record["nip"] == "[redacted]"
        assert "2468" not in line and "4152310000000001" not in line
    finally:
        configure_logging(Settings.from_env({}), force=True)


def test_call_sids_stay_whole_so_a_call_can_be_traced():
    from config.logging import redact_value

    sid = "CA" + "1234567890" * 3 + "ab"  # a long run of digits inside the hex
    assert redact_value(f"call={sid}") == f"call={sid}"
    assert redact_value(f"{sid} card 4152310000000001") == f"{sid} card ************0001"
    assert redact_value("CA4152310000000001") == "CA************0001"  # not a Sid: masked
