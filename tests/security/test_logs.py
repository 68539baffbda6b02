"""Logs: Flask's and werkzeug's own records go through the same redaction as
ours, and no traceback quotes the input that caused it (finding 7)."""
import json
import logging

from flask import request

from config.logging import configure_logging


def test_a_failed_requests_traceback_does_not_quote_the_input(desk_app, capsys):
    @desk_app.post("/conexion/_falla")
    def failing():  # a bug that quotes what was typed, as int() and friends do
        return str(int(request.form["nip"]) + int(request.form["tarjeta"], base=3))

    desk_app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False, WTF_CSRF_ENABLED=False)
    client = desk_app.test_client()
    response = client.post("/conexion/_falla", data={"nip": "1357",
                                                     "tarjeta": "4152310000000001"})
    assert response.status_code == 500
    logged = capsys.readouterr().err
    assert "Exception on /conexion/_falla [POST]" in logged  # Flask's record, through structlog
    assert "ValueError: [message withheld]" in logged and "Traceback" in logged
    assert "1357" not in logged and "4152310000000001" not in logged


def test_stdlib_records_are_redacted_like_structlog_events(desk_app, capsys):
    logging.getLogger("werkzeug").warning("card %s nip", "4152310000000001",
                                          extra={"nip": "1357"})
    logged = capsys.readouterr().err
    assert "4152310000000001" not in logged and "************0001" in logged
    assert "1357" not in logged


def test_production_logs_are_json_lines(desk_app, capsys):
    from dataclasses import replace

    settings = desk_app.extensions["settings"]
    configure_logging(replace(settings, log_format="json"), force=True)
    try:
        logging.getLogger("flask.app").error("something failed")
        line = capsys.readouterr().err.strip().splitlines()[-1]
        event = json.loads(line)
        assert event["event"] == "something failed" and event["level"] == "error"
    finally:
        configure_logging(settings, force=True)
