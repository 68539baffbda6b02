"""The agent's softphone on the server: its page, the access token its browser
registers with, and what it should do now (estado.json)."""
import re

import pytest

from agent_desk import phone
from tests.desk.test_desk import alphanumeric_call
from tests.unit.test_settings import SOFTPHONE
from tests.web.conftest import Browser


def verified_token(token: str, settings) -> dict:
    """The token's claims, once its signature (the API key's secret), dates and
    issuer check out against the app's settings; what a Voice SDK token carries.
    Decoded by the twilio library itself (which verifies signature and dates)."""
    from twilio.jwt import Jwt

    decoded = Jwt.from_jwt(token, settings.twilio_api_secret)
    assert decoded.headers["cty"] == "twilio-fpa;v=1"
    claims = decoded.payload
    assert claims["iss"] == settings.twilio_api_key
    assert claims["sub"] == settings.twilio_account_sid
    assert claims["exp"] - claims["nbf"] == 600
    assert claims["grants"]["voice"] == {
        "incoming": {"allow": True},
        "outgoing": {"application_sid": settings.twilio_twiml_app_sid}}
    return claims


def csrf_headers(agent):
    """What the phone page's script sends: the CSRF token the page carries."""
    agent.get("/escritorio/telefono")
    return {"X-CSRFToken": re.search(r'data-csrf="([^"]+)"', agent.text).group(1)}


def test_a_logged_in_agent_gets_a_voice_token_for_their_own_identity(agent, bank, desk_app):
    response = agent.client.post("/escritorio/telefono/token.json", base_url="https://localhost",
                                 headers=csrf_headers(agent))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    laura = bank.authenticate_agent("agente1", "agente-demo-1")
    assert body["identity"] == f"agente_{laura.id}" and body["ttl_seconds"] == 600
    claims = verified_token(body["token"], desk_app.extensions["settings"])
    assert claims["grants"]["identity"] == f"agente_{laura.id}"
    from twilio.jwt import Jwt, JwtDecodeError
    with pytest.raises(JwtDecodeError, match="Signature verification failed"):
        Jwt.from_jwt(body["token"], "AnotherSecret0123456789abcdefGHI")


def test_the_token_is_never_written_to_the_log(agent, capsys):
    response = agent.client.post("/escritorio/telefono/token.json", base_url="https://localhost",
                                 headers=csrf_headers(agent))
    token = response.get_json()["token"]
    logged = capsys.readouterr().err
    assert "phone_token_issued" in logged and token not in logged
    assert token.split(".")[2] not in logged


def test_the_token_needs_the_csrf_header_and_a_logged_in_agent(agent, desk_app):
    headers = csrf_headers(agent)
    refused = agent.client.post("/escritorio/telefono/token.json", base_url="https://localhost")
    assert refused.status_code == 400 and b"eyJ" not in refused.data  # no token in it
    forged = agent.client.post("/escritorio/telefono/token.json", base_url="https://localhost",
                               headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 400
    stranger = Browser(desk_app)
    stranger.get("/escritorio/entrar")  # a session and its CSRF token, but no log-in
    response = stranger.client.post("/escritorio/telefono/token.json",
                                    base_url="https://localhost",
                                    headers={"X-CSRFToken": stranger.csrf})
    assert response.status_code == 401 and response.get_json() == {"error": "session_expired"}
    agent.post("/escritorio/salir")
    after = agent.client.post("/escritorio/telefono/token.json", base_url="https://localhost",
                              headers=headers)
    # Refused before any token is made: the session, and its CSRF token, are gone.
    assert after.status_code == 400 and b"eyJ" not in after.data


def test_the_phone_page_loads_the_sdk_and_its_script_from_the_desk(agent, monkeypatch, tmp_path):
    sdk = tmp_path / "static" / phone.VOICE_SDK
    sdk.parent.mkdir(parents=True)
    sdk.write_text("/* the SDK */")
    monkeypatch.setattr(phone, "STATIC", tmp_path / "static")
    response = agent.get("/escritorio/telefono")
    assert response.status_code == 200
    page = agent.text
    assert '<script src="/escritorio/static/vendor/twilio.min.js" defer></script>' in page
    assert '<script src="/escritorio/static/desk/telefono.js" defer></script>' in page
    assert re.search(r"<script>|<script [^>]*>[^<]", page) is None  # nothing inline
    assert 'data-token-url="/escritorio/telefono/token.json"' in page
    assert 'data-estado-url="/escritorio/telefono/estado.json"' in page
    assert 'id="telefono-estado" role="status" aria-live="polite"' in page
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe" not in policy
    assert "no está configurado" not in page and "no está instalado" not in page
    served = agent.get("/escritorio/static/vendor/twilio.min.js")
    assert served.status_code == 200 and served.get_data(as_text=True) == "/* the SDK */"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert agent.get("/escritorio/static/../phone.py").status_code == 404


def test_the_desk_serves_the_phones_script(agent):
    script = agent.get("/escritorio/static/desk/telefono.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert script.get_data() == (phone.STATIC / "desk" / "telefono.js").read_bytes()


def test_without_the_sdk_the_page_says_it_is_not_installed(agent, monkeypatch, tmp_path):
    monkeypatch.setattr(phone, "STATIC", tmp_path)
    agent.get("/escritorio/telefono")
    assert "El SDK de voz de Twilio no está instalado" in agent.text
    assert "make run" in agent.text and "<script" not in agent.text


@pytest.mark.parametrize("desk_env", [
    {"TWILIO_API_KEY": "", "TWILIO_API_SECRET": "", "TWILIO_TWIML_APP_SID": ""}])
def test_unconfigured_the_page_says_so_and_the_token_is_refused(agent, desk_env):
    agent.get("/escritorio/telefono")
    text = agent.text
    assert "El teléfono del escritorio no está configurado." in text
    assert "Puede seguir atendiendo las llamadas en pantalla" in text
    for name in SOFTPHONE:
        assert name in text
    assert "<script" not in text
    response = agent.client.post("/escritorio/telefono/token.json", base_url="https://localhost",
                                 headers={"X-CSRFToken": agent.csrf})
    assert response.status_code == 503
    assert response.get_json() == {"error": "softphone_not_configured"}


def test_the_phone_page_needs_a_logged_in_agent(desk_app):
    stranger = Browser(desk_app)
    response = stranger.get("/escritorio/telefono")
    assert response.status_code == 302 and response.location.endswith("/escritorio/entrar")
    assert stranger.get("/escritorio/telefono/estado.json").status_code == 401


def test_the_desk_opens_the_phone_in_its_own_window(agent):
    agent.get("/escritorio/")
    assert '<a href="/escritorio/telefono" target="telefono">Abrir el teléfono</a>' in agent.text


# ---- estado.json ------------------------------------------------------------------
def test_estado_names_the_call_this_agent_took_and_nothing_otherwise(dial, agent, supervisor):
    empty = {"handoff": None, "caller_at": None, "caller": None, "customer": None}
    assert agent.get("/escritorio/telefono/estado.json").get_json() == empty
    alphanumeric_call(dial)
    assert agent.get("/escritorio/telefono/estado.json").get_json() == empty  # waiting, not taken
    handoff_id = int(agent.take_next().location.rsplit("/", 1)[1])
    state = agent.get("/escritorio/telefono/estado.json")
    assert state.headers["Cache-Control"] == "no-store"
    body = state.get_json()
    assert body["handoff"] == handoff_id and body["caller"] == "+523336693552"
    assert body["customer"] == "Ana López"
    assert body["caller_at"] == "queue"  # the phone connects to a caller in line
    assert supervisor.get("/escritorio/telefono/estado.json").get_json() == empty  # not theirs
    agent.connect(handoff_id)
    assert agent.get("/escritorio/telefono/estado.json").get_json()["caller_at"] == "agent"
    agent.post(f"/escritorio/llamadas/{handoff_id}/cerrar", {"disposicion": "otro"})
    assert agent.get("/escritorio/telefono/estado.json").get_json() == empty  # wrapped up


def test_estado_takes_the_newest_of_several_calls_and_says_when_the_number_is_hidden(
        dial, agent):
    alphanumeric_call(dial)
    first = int(agent.take_next().location.rsplit("/", 1)[1])
    dial(caller="anonymous").press("0")  # a withheld number, straight to an agent
    second = int(agent.take_next().location.rsplit("/", 1)[1])
    body = agent.get("/escritorio/telefono/estado.json").get_json()
    assert second != first
    assert (body["handoff"], body["caller"], body["customer"]) == \
        (second, "número oculto", "sin identificar")
