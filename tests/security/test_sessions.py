"""Sessions: no forgeable key, nothing readable in the cookie, and a session
the bank can end (log-out, a blocked credential, an agent's lockout) ends on
every channel at once, a call in progress included. Each test reproduces a
finding of issue 12 against the version before it."""
import base64
import json
import os
import re
import stat

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from config import ConfigError, Settings
from tests.e2e.test_call_flow import login_with_access_key
from tests.web.conftest import Browser

# The key the first version shipped as its default, public with its code.
PUBLISHED_KEY = "development-secret-key"


def forged_flask_cookie(secret_key: str, data: dict) -> str:
    """A session cookie as Flask signs it, made with a known key."""
    app = Flask("forger")
    app.secret_key = secret_key
    return SecureCookieSessionInterface().get_signing_serializer(app).dumps(data)


# ---- finding 1: a known session key when IVR_ENV is unset -------------------------------
def test_an_instance_without_secrets_draws_its_own(tmp_path):
    one = Settings.from_env({"IVR_INSTANCE_PATH": str(tmp_path / "a")})
    two = Settings.from_env({"IVR_INSTANCE_PATH": str(tmp_path / "b")})
    again = Settings.from_env({"IVR_INSTANCE_PATH": str(tmp_path / "a")})
    assert one.secret_key != PUBLISHED_KEY and len(one.secret_key) >= 32
    assert one.secret_key != two.secret_key and one.nip_pepper != two.nip_pepper
    assert one.twilio_auth_token != two.twilio_auth_token
    assert (again.secret_key, again.nip_pepper) == (one.secret_key, one.nip_pepper)
    kept = tmp_path / "a" / "secrets.json"
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600


def test_no_secret_is_a_constant_in_the_code():
    assert Settings.secret_key == "" and Settings.nip_pepper == ""
    assert Settings.twilio_auth_token == ""


def test_production_refuses_to_start_and_names_every_missing_secret(tmp_path):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"IVR_ENV": "production", "IVR_INSTANCE_PATH": str(tmp_path),
                           "PUBLIC_BASE_URL": "https://linea.example.mx"})
    for name in ("SECRET_KEY", "NIP_PEPPER", "TWILIO_AUTH_TOKEN"):
        assert name in str(refused.value)
    assert not (tmp_path / "secrets.json").exists()  # production draws nothing


def test_an_instance_secrets_file_others_can_read_is_refused(tmp_path):
    Settings.from_env({"IVR_INSTANCE_PATH": str(tmp_path)})
    os.chmod(tmp_path / "secrets.json", 0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        Settings.from_env({"IVR_INSTANCE_PATH": str(tmp_path)})


def test_a_cookie_forged_with_the_published_key_opens_nothing(desk_app, customer):
    """The attack: sign a session naming Ana's credential, and the supervisor
    for the desk, with the key the code used to publish."""
    ana = customer
    ana.get("/conexion/inicio")
    principal = {"customer_id": 1, "customer_name": "Ana", "method": "access_key",
                 "account_ids": list(range(1, 20)), "credential_id": 1}
    attacker = Browser(desk_app)
    for name in ("session", "conexion_sesion"):
        attacker.client.set_cookie(name, forged_flask_cookie(
            PUBLISHED_KEY, {"principal": principal, "seen": 2**31}), domain="localhost")
        attacker.client.set_cookie(name, forged_flask_cookie(
            desk_app.secret_key, {"principal": principal, "seen": 2**31}), domain="localhost")
    response = attacker.get("/conexion/inicio")
    assert response.status_code == 302 and "/conexion/entrar" in response.location
    for name in ("session", "escritorio_sesion"):
        attacker.client.set_cookie(name, forged_flask_cookie(
            PUBLISHED_KEY, {"agent_id": 2, "agent_seen": 2**31}), domain="localhost")
    response = attacker.get("/escritorio/auditoria")
    assert response.status_code == 302 and "/escritorio/entrar" in response.location


# ---- the cookie says nothing ------------------------------------------------------------
def _cookies(browser) -> dict[str, str]:
    return {cookie.key: cookie.value for cookie in browser.client._cookies.values()}


def test_the_session_cookie_is_a_random_token_only(customer, agent):
    for browser in (customer, agent):
        values = list(_cookies(browser).values())
        assert values, "a logged-in browser holds a cookie"
        for value in values:
            assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value), value
            padded = value + "=" * (-len(value) % 4)
            decoded = base64.urlsafe_b64decode(padded)
            assert b"Ana" not in decoded and b"customer" not in decoded \
                and b"agent" not in decoded


def test_log_in_draws_a_new_token(desk_app):
    browser = Browser(desk_app)
    browser.get("/conexion/entrar")
    before = _cookies(browser)["conexion_sesion"]
    browser.post("/conexion/entrar", {"clave": "10000001", "contrasena": "1357"})
    after = _cookies(browser)["conexion_sesion"]
    assert after != before
    # The token from before the log-in (a fixation attempt) opens nothing.
    fixated = Browser(desk_app)
    fixated.client.set_cookie("conexion_sesion", before, domain="localhost",
                              path="/conexion")
    assert fixated.get("/conexion/inicio").status_code == 302


def test_a_token_of_one_channel_is_worthless_on_the_other(desk_app, customer):
    stolen = _cookies(customer)["conexion_sesion"]
    other = Browser(desk_app)
    other.client.set_cookie("escritorio_sesion", stolen, domain="localhost",
                            path="/escritorio")
    assert other.get("/escritorio/").status_code == 302


# ---- finding 3: sessions are never revoked ------------------------------------------------
def _copy_of(desk_app, browser) -> Browser:
    """Another browser holding a copy of this one's cookies."""
    thief = Browser(desk_app)
    for cookie in browser.client._cookies.values():
        thief.client.set_cookie(cookie.key, cookie.value, domain="localhost",
                                path=cookie.path)
    return thief


def test_a_cookie_copied_before_log_out_is_dead_after_it(desk_app, customer):
    thief = _copy_of(desk_app, customer)
    assert thief.get("/conexion/inicio").status_code == 200
    customer.post("/conexion/salir")
    response = thief.get("/conexion/inicio")
    assert response.status_code == 302 and "/conexion/entrar" in response.location


def test_log_out_ends_every_session_of_that_log_in(desk_app, customer):
    elsewhere = Browser(desk_app)
    elsewhere.log_in()
    customer.get("/conexion/inicio")
    assert elsewhere.get("/conexion/inicio").status_code == 200
    customer.post("/conexion/salir")
    assert elsewhere.get("/conexion/inicio").status_code == 302


def _block_by_phone(dial):
    """Three wrong NIPs on a call block Ana's access key."""
    call = dial()
    call.press("1")
    call.press("10000001")
    for _ in range(3):  # a wrong NIP asks for the NIP again, for the same key
        heard = call.press("0000")
    assert "bloqueado" in heard.text
    return call


def test_a_blocked_credential_ends_its_web_session_before_any_payment(desk_app, customer,
                                                                       dial, desk_bank):
    operation = customer.payment_form("1411")
    account = customer.account_id("5671")
    _block_by_phone(dial)
    before = desk_bank.verify()
    response = customer.post("/conexion/servicios/1411/ejecutar", {
        "operacion": operation, "cuenta": account, "referencia1": "9876543217",
        "importe": "1.00"})
    assert response.status_code == 303 and "/conexion/entrar" in response.location
    from banking_core.models import Payment
    from sqlalchemy import func, select
    with desk_bank.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Payment)) == 0
    assert before.ok


def test_a_blocked_credential_ends_a_call_in_progress_at_its_next_turn(dial):
    call = dial()
    heard = login_with_access_key(call)
    assert "Le damos la bienvenida" in heard.text
    _block_by_phone(dial)
    heard = call.press("1")  # asks for the balances
    assert "su acceso se cerró o fue bloqueado" in heard.text
    assert "saldo" not in heard.text.lower() and call.ended


def test_a_log_out_on_the_web_ends_the_same_customers_call(customer, dial):
    call = dial()
    login_with_access_key(call)
    customer.post("/conexion/salir")
    heard = call.press("1")
    assert "su acceso se cerró o fue bloqueado" in heard.text and call.ended


def test_a_call_that_logged_in_in_another_way_keeps_going(customer, dial):
    """A session belongs to the credential that opened it: Ana's log-out on
    the web does not end a call logged in with her card."""
    call = dial()
    call.press("2")
    call.press("4152310000000001")
    assert "Le damos la bienvenida" in call.press("2468").text
    customer.post("/conexion/salir")
    assert "saldo" in call.press("1").text.lower()


def test_the_session_lifetime_counts_from_log_in_and_never_rolls_forward(customer, desk_bank,
                                                                         monkeypatch):
    start = desk_bank.sessions.clock()
    for minutes in range(5, 8 * 60, 5):  # active every 5 minutes for 8 hours
        monkeypatch.setattr(desk_bank.sessions, "clock", lambda m=minutes: start + m * 60)
        assert customer.get("/conexion/inicio").status_code == 200, minutes
    monkeypatch.setattr(desk_bank.sessions, "clock", lambda: start + 8 * 60 * 60 + 1)
    response = customer.get("/conexion/inicio")
    assert response.status_code == 302 and "/conexion/entrar" in response.location


def test_an_agent_session_ends_when_the_agent_is_locked_out(desk_app, twilio, agent):
    assert agent.get("/escritorio/").status_code == 200
    attacker = Browser(desk_app)
    attacker.get("/escritorio/entrar")
    for _ in range(6):
        attacker.post("/escritorio/entrar", {"usuario": "agente1", "contrasena": "wrong"})
    response = agent.get("/escritorio/")
    assert response.status_code == 302 and "/escritorio/entrar" in response.location


def test_sessions_live_in_the_store_not_the_cookie(customer, desk_bank):
    token = _cookies(customer)["conexion_sesion"]
    record = desk_bank.sessions.get(token)
    assert record is not None and record.channel == "web"
    assert json.loads(json.dumps(record.principal)).startswith("credential:")


def test_a_new_password_ends_the_agents_sessions(desk_app, agent, desk_bank):
    assert agent.get("/escritorio/").status_code == 200
    runner = desk_app.test_cli_runner()
    result = runner.invoke(args=["bank", "agent-password", "agente1"],
                           input="una-clave-nueva-1\nuna-clave-nueva-1\n")
    assert result.exit_code == 0, result.output
    assert "una-clave-nueva-1" not in result.output
    response = agent.get("/escritorio/")
    assert response.status_code == 302 and "/escritorio/entrar" in response.location
    assert agent.log_in(password="agente-demo-1").status_code == 401
    assert agent.log_in(password="una-clave-nueva-1").status_code == 302


def test_a_short_new_password_is_refused(desk_app):
    result = desk_app.test_cli_runner().invoke(args=["bank", "agent-password", "agente1"],
                                               input="corta\ncorta\n")
    assert result.exit_code != 0 and "at least 12 characters" in result.output
