"""The agent's softphone in a real headless Chromium: first with Twilio's own SDK
as `make` vendors it (Twilio itself unreachable), then with a double standing in
for the SDK (tests/desk/voice_sdk_double.js) to play Twilio's side of calls."""
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from agent_desk import phone
from tests import services
from tests.browser import ARTIFACTS, served
from tests.desk.test_desk import alphanumeric_call
from tests.desk.test_phone import verified_token

VOICE_SDK_DOUBLE = Path(__file__).with_name("voice_sdk_double.js")
ESTADO = "/escritorio/telefono/estado.json"


@pytest.fixture
def desk_env():
    return {"WEB_COOKIE_SECURE": "0"}  # the live server is plain http


@pytest.fixture
def live(desk_app):
    with served(desk_app) as base:
        yield base


@pytest.fixture
def context(page):
    """The page's browser context, kept on 127.0.0.1: anything else is refused
    (HTTP and WebSockets) and noted, as is any Content-Security-Policy breach."""
    context = page.context
    context.off_host = []

    def only_local(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            context.off_host.append((route.request.resource_type, route.request.url))
            route.abort()

    def no_socket(ws):
        context.off_host.append(("websocket", ws.url))
        ws.close()

    context.route("**/*", only_local)
    context.route_web_socket(re.compile(r"^(?!wss?://127\.0\.0\.1[:/])"), no_socket)
    context.add_init_script("""
        window.__cspViolations = [];
        document.addEventListener("securitypolicyviolation",
            (e) => window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI));
    """)
    return context


def open_phone(page, base):
    """Log in to the desk and open the phone from it, in its own window."""
    page.goto(f"{base}/escritorio/entrar")
    page.get_by_label("Usuario").fill("agente1")
    page.get_by_label("Contraseña").fill("agente-demo-1")
    page.get_by_role("button", name="ENTRAR").click()
    page.get_by_role("heading", name="Llamadas transferidas").wait_for()
    with page.expect_popup() as window, \
            page.context.expect_event("response", lambda r: r.url.endswith("/token.json")) \
            as token:
        page.get_by_role("link", name="Abrir el teléfono").click()
    phone_page = window.value
    assert phone_page.evaluate("window.name") == "telefono"
    phone_page.set_default_timeout(10_000)
    return phone_page, token.value


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)


# ---- Twilio's SDK, served by the app ---------------------------------------------
def test_the_phone_runs_twilios_sdk_from_the_app_and_says_twilio_is_unreachable(
        page, context, live, desk_app, monkeypatch):
    sdk = phone.STATIC / phone.VOICE_SDK
    if not sdk.is_file():
        services.unavailable("Twilio's Voice SDK", f"{sdk} (make install runs npm)",
                             FileNotFoundError(sdk))
    monkeypatch.setattr(phone, "PATIENCE_SECONDS", 2)  # not the agent's 10 s
    requests = []
    context.on("request", lambda r: requests.append((r.resource_type, r.url)))
    with context.expect_event("response", lambda r: r.url.endswith("/twilio.min.js")) as loaded:
        window, token_response = open_phone(page, live)
    script = loaded.value
    assert urlsplit(script.url).hostname == "127.0.0.1" and script.status == 200
    assert script.body() == sdk.read_bytes()  # the file npm installed, byte for byte
    assert window.evaluate("typeof Twilio.Device") == "function"
    assert token_response.status == 200
    body = token_response.json()
    claims = verified_token(body["token"], desk_app.extensions["settings"])
    assert claims["grants"]["identity"] == body["identity"] == "agente_1"
    # Twilio's signalling never answers here: the phone says so in words.
    status = window.locator("#telefono-estado")
    expect(status).to_have_text(re.compile(r"^Sin conexión con Twilio"), timeout=8_000)
    shot(window, "offline")
    assert [u for kind, u in requests if kind in {"script", "stylesheet"}
            and urlsplit(u).hostname != "127.0.0.1"] == []
    assert any(kind == "websocket" and "twilio.com" in u for kind, u in context.off_host)
    assert window.evaluate("window.__cspViolations") == []


# ---- a double for the SDK: the panel, call by call -----------------------------------
@pytest.fixture
def double(context):
    """The vendored SDK's URL answers with the double, whatever `make` installed."""
    context.route("**/escritorio/static/vendor/twilio.min.js",
                  lambda route: route.fulfill(path=str(VOICE_SDK_DOUBLE),
                                              content_type="text/javascript"))
    return context


def voice(window, expression):
    return window.evaluate(f"window.__voiceDouble.{expression}")


def test_an_incoming_call_is_answered_muted_and_hung_up(page, double, live, desk_app):
    window, token_response = open_phone(page, live)
    status = window.locator("#telefono-estado")
    expect(status).to_have_text("Conectando…")
    assert voice(window, "record.registrations") == 1
    device = voice(window, "device().options")
    assert device == {"closeProtection": True, "codecPreferences": ["opus", "pcmu"]}
    assert voice(window, "device().token") == token_response.json()["token"]
    voice(window, "registered()")
    expect(status).to_have_text("Teléfono listo")
    shot(window, "ready")

    voice(window, 'incoming({From: "+523336693552"})')
    expect(status).to_have_text("Llamada entrante de +523336693552")
    expect(window.locator("#telefono-entrante")).to_be_visible()
    shot(window, "incoming")
    window.get_by_role("button", name="Contestar").click()
    expect(status).to_have_text("En llamada")
    expect(window.locator("#telefono-entrante")).to_be_hidden()
    expect(window.locator("#llamada-numero")).to_have_text("+523336693552")
    mute = window.locator("#silenciar")
    mute.click()
    expect(mute).to_have_text("Reactivar micrófono")
    expect(mute).to_have_attribute("aria-pressed", "true")
    expect(status).to_have_text("En llamada · micrófono silenciado")
    shot(window, "in-call")
    mute.click()
    expect(mute).to_have_text("Silenciar")
    window.get_by_role("button", name="Colgar").click()
    expect(status).to_have_text("Teléfono listo. La llamada terminó.")
    expect(window.locator("#telefono-llamada")).to_be_hidden()
    assert voice(window, "lastCall().actions") == ["accept", "mute", "unmute", "disconnect"]

    voice(window, 'incoming({From: "+523311112222"})')
    voice(window, "cancel()")  # the caller hung up while it rang
    expect(status).to_have_text(
        "Teléfono listo. La persona colgó antes de que usted contestara.")
    expect(window.locator("#telefono-entrante")).to_be_hidden()
    voice(window, 'incoming({From: "+523311112222"})')
    window.get_by_role("button", name="Rechazar").click()
    expect(status).to_have_text("Teléfono listo. Llamada rechazada.")
    assert voice(window, "lastCall().actions") == ["reject"]

    voice(window, 'error(31005, "Connection error")')
    expect(status).to_have_text(
        "Sin conexión con Twilio (código 31005). El teléfono vuelve a intentarlo solo.")
    with window.expect_response(lambda r: r.url.endswith("/token.json")) as renewed:
        voice(window, "tokenWillExpire()")
    window.wait_for_function("() => window.__voiceDouble.record.tokens.length === 1")
    assert voice(window, "record.tokens[0]") == renewed.value.json()["token"]
    verified_token(renewed.value.json()["token"], desk_app.extensions["settings"])
    assert window.evaluate("window.__cspViolations") == []


def take_a_call(dial, agent) -> int:
    """Through the desk's own flow: a caller transferred, the agent takes it."""
    alphanumeric_call(dial)
    return int(agent.take_next().location.rsplit("/", 1)[1])


def test_the_phone_connects_once_to_the_caller_waiting_in_the_queue(
        page, double, live, dial, agent):
    window, _ = open_phone(page, live)
    status = window.locator("#telefono-estado")
    voice(window, "registered()")
    expect(status).to_have_text("Teléfono listo")
    handoff_id = take_a_call(dial, agent)  # the same agent, at the desk's other tab

    # Within a poll (2 s), the phone calls the TwiML App for that handoff, once.
    window.wait_for_function("() => window.__voiceDouble.record.connects.length === 1")
    assert voice(window, "record.connects") == [{"handoff": str(handoff_id)}]
    expect(status).to_have_text("Conectando con el cliente…")
    voice(window, "answered()")
    expect(status).to_have_text("En llamada")
    expect(window.locator("#llamada-numero")).to_have_text("+523336693552")
    expect(window.locator("#llamada-cliente")).to_have_text("Ana López")
    expect(window.locator("#telefono-asignacion")).to_be_hidden()
    shot(window, "connected")
    voice(window, 'callError(53405, "Media connection failed")')
    expect(status).to_have_text("Se perdió el audio de la llamada (código 53405).")
    voice(window, "remoteHangUp()")  # and why it ended stays on screen
    expect(status).to_have_text(
        "Teléfono listo. La llamada terminó. Se perdió el audio de la llamada (código 53405).")

    # The caller still shows "in the queue": two more polls, and no second call.
    for _ in range(2):
        with window.expect_response(lambda r: r.url.endswith(ESTADO), timeout=5_000):
            pass
    assert voice(window, "record.connects.length") == 1
    assignment = window.locator("#asignacion-texto")
    expect(assignment).to_have_text(
        f"Llamada {handoff_id}: +523336693552 · Ana López · el cliente espera en la fila")
    shot(window, "assigned")
    window.get_by_role("button", name="Conectar con el cliente").click()  # by hand, it does
    window.wait_for_function("() => window.__voiceDouble.record.connects.length === 2")
    assert voice(window, "record.connects[1]") == {"handoff": str(handoff_id)}


def test_a_message_from_the_desk_makes_the_phone_look_at_once_and_a_logout_stops_it(
        page, double, live, dial, agent, monkeypatch):
    monkeypatch.setattr(phone, "POLL_SECONDS", 600)  # only the message can explain a look
    window, _ = open_phone(page, live)
    voice(window, "registered()")
    expect(window.locator("#telefono-estado")).to_have_text("Teléfono listo")
    handoff_id = take_a_call(dial, agent)
    with window.expect_response(lambda r: r.url.endswith(ESTADO), timeout=5_000):
        page.evaluate('new BroadcastChannel("linea-directa-telefono").postMessage("tomada")')
    window.wait_for_function("() => window.__voiceDouble.record.connects.length === 1")
    assert voice(window, "record.connects") == [{"handoff": str(handoff_id)}]
    voice(window, "remoteHangUp()")

    # Logging out at the desk ends the phone's session: it says so and stops asking.
    page.get_by_role("button", name="Salir").click()
    page.get_by_role("heading", name="Entrar al escritorio").wait_for()
    with window.expect_response(lambda r: r.url.endswith(ESTADO), timeout=5_000) as refused:
        page.evaluate('new BroadcastChannel("linea-directa-telefono").postMessage("salió")')
    assert refused.value.status == 401
    expect(window.locator("#telefono-estado")).to_have_text(
        "Su sesión del escritorio terminó. Entre de nuevo al escritorio "
        "y vuelva a abrir el teléfono.")
    assert voice(window, "record.destroyed") == 1
    expect(window.locator("#telefono-asignacion")).to_be_hidden()
    shot(window, "session-ended")
    asked = []
    window.on("request", lambda r: asked.append(r.url) if r.url.endswith(ESTADO) else None)
    page.evaluate('new BroadcastChannel("linea-directa-telefono").postMessage("otra vez")')
    window.wait_for_timeout(500)
    assert asked == []
