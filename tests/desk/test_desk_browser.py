"""The desk in a real headless Chromium: a call arrives while the agent watches,
the agent takes it, pays, and reads the folio."""
import pytest
from sqlalchemy import select

from banking_core import loader
from banking_core.models import Payment
from ivr.simulator import FlaskTransport, SimulatedCall
from ivr.state import MemoryCallStore
from tests.desk.test_desk import alphanumeric_call
from tests.browser import ARTIFACTS, served
from tests.web.conftest import web_settings


@pytest.fixture
def live_desk(tmp_path, sqlite_url):
    from ivr.app import create_app

    app = create_app(web_settings(tmp_path, sqlite_url, WEB_COOKIE_SECURE="0"),
                     call_store=MemoryCallStore())
    loader.seed_demo(app.extensions["bank"])
    with served(app) as base:
        yield app, base


def test_an_agent_takes_a_transferred_call_and_pays_it(page, live_desk):
    app, base = live_desk
    settings = app.extensions["settings"]
    page.goto(f"{base}/escritorio/")
    page.get_by_label("Usuario").fill("agente1")
    page.get_by_label("Contraseña").fill("agente-demo-1")
    page.get_by_role("button", name="ENTRAR").click()
    page.get_by_role("heading", name="Llamadas transferidas").wait_for()
    assert page.locator('[data-count="waiting"]').inner_text() == "0"

    def dial(**options):
        call = SimulatedCall(FlaskTransport(app.test_client()),
                             base_url=settings.public_base_url,
                             auth_token=settings.twilio_auth_token, **options)
        call.start()
        return call

    alphanumeric_call(dial)
    # No reload: the page polls and shows the new call by itself.
    page.locator('[data-list="waiting"] tr', has_text="Ana López").wait_for(timeout=8000)
    assert page.locator('[data-count="waiting"]').inner_text() == "1"
    page.get_by_role("button", name="Atender la siguiente llamada").click()
    page.get_by_role("heading", name="Quién llama").wait_for()
    assert page.locator("#cliente").inner_text() == "Ana López"
    assert page.get_by_text("Referencia con letras y números").is_visible()
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
    page.screenshot(path=str(ARTIFACTS / "desk-list.png"), full_page=True)
