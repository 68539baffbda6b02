"""The desk in a real headless Chromium: a call arrives while the agent watches,
the agent takes it, talks to the caller (the softphone's leg simulated on the
same Twilio as the caller's), pays, and reads the folio."""
import pytest
from sqlalchemy import select

from banking_core import loader
from banking_core.models import Payment
from ivr.simulator import FlaskTransport, SimulatedCall
from ivr.state import MemoryCallStore
from ivr.twilio_sim import ACCOUNT_SID, Twilio
from telephony.call_control import TwilioCallControl
from tests.desk.conftest import TWILIO_ENV
from tests.desk.test_desk import alphanumeric_call
from tests.browser import ARTIFACTS, served
from tests.web.conftest import web_settings


@pytest.fixture
def live_desk(tmp_path, sqlite_url):
    from ivr.app import create_app

    settings = web_settings(tmp_path, sqlite_url, WEB_COOKIE_SECURE="0", **TWILIO_ENV)
    twilio = Twilio(None, base_url=settings.public_base_url,
                    auth_token=settings.twilio_auth_token,
                    twiml_app_sid=settings.twilio_twiml_app_sid)
    app = create_app(settings, call_store=MemoryCallStore(), call_control=TwilioCallControl(
        ACCOUNT_SID, settings.twilio_auth_token, http_client=twilio.rest))
    twilio.transport = FlaskTransport(app.test_client())
    loader.seed_demo(app.extensions["bank"])
    with served(app) as base:
        yield app, base, twilio
    assert twilio.errors == []


def test_an_agent_takes_a_transferred_call_and_pays_it(page, live_desk):
    app, base, twilio = live_desk
    settings = app.extensions["settings"]
    page.goto(f"{base}/escritorio/")
    page.get_by_label("Usuario").fill("agente1")
    page.get_by_label("Contraseña").fill("agente-demo-1")
    page.get_by_role("button", name="ENTRAR").click()
    page.get_by_role("heading", name="Llamadas transferidas").wait_for()
    assert page.locator('[data-count="waiting"]').inner_text() == "0"

    def dial(**options):
        call = SimulatedCall(twilio.transport, base_url=settings.public_base_url,
                             auth_token=settings.twilio_auth_token, twilio=twilio, **options)
        call.start()
        return call

    call = alphanumeric_call(dial)
    # No reload: the page polls and shows the new call by itself.
    page.locator('[data-list="waiting"] tr', has_text="Ana López").wait_for(timeout=8000)
    assert page.locator('[data-count="waiting"]').inner_text() == "1"
    page.get_by_role("button", name="Atender la siguiente llamada").click()
    page.get_by_role("heading", name="Quién llama").wait_for()
    assert page.locator("#cliente").inner_text() == "Ana López"
    assert page.get_by_text("Referencia con letras y números").is_visible()
    assert page.locator("#cliente-en").inner_text() == "en la fila, esperando su teléfono"
    handoff_id = int(page.url.rsplit("/", 1)[1])
    agent_id = app.extensions["bank"].find_handoff_by_call(call.call_sid).agent_id
    leg = twilio.softphone(f"agente_{agent_id}").connect(handoff=str(handoff_id))
    assert leg.talking_to() == {call.leg}
    # The page follows the caller by itself: now on the line with the agent.
    page.locator("#cliente-en", has_text="en línea con usted").wait_for(timeout=8000)
    page.get_by_label("Referencia 1").fill("CAT-00123A")
    page.get_by_label("Cuenta de retiro").select_option(label="Cheques ******5671 · saldo $25,000.00")
    page.get_by_label("Importe (pesos)").fill("1234.56")
    page.get_by_role("button", name="PAGAR").click()
    notice = page.get_by_text("léalo al cliente")
    notice.wait_for()
    with app.extensions["bank"].unit_of_work() as uow:
        folio = uow.session.scalars(select(Payment.folio)).one()
    assert folio in notice.inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "desk-call.png"), full_page=True)
    page.get_by_label("Resultado").select_option("pago_realizado")
    page.get_by_role("button", name="Cerrar llamada").click()
    page.get_by_text("Llamada cerrada.").wait_for()
    twilio.settle()
    assert "Gracias por llamar" in call.last.text and call.leg.ended and leg.ended
    page.screenshot(path=str(ARTIFACTS / "desk-list.png"), full_page=True)
