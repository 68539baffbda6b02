"""The desk in a real headless Chromium: a call arrives while the agent watches,
the agent takes it, talks to the caller (the softphone's leg simulated on the
same Twilio as the caller's), pays, and reads the folio."""
import pytest
from sqlalchemy import select

from banking_core.models import Payment
from tests.browser import ARTIFACTS, served
from tests.desk.test_desk import alphanumeric_call


@pytest.fixture
def desk_env():
    return {"WEB_COOKIE_SECURE": "0"}  # the live server is plain http


@pytest.fixture
def live_desk(desk_app):
    with served(desk_app) as base:
        yield base


def test_an_agent_takes_a_transferred_call_and_pays_it(page, live_desk, desk_app, twilio,
                                                       dial):
    app, base = desk_app, live_desk
    page.goto(f"{base}/escritorio/")
    page.get_by_label("Usuario").fill("agente1")
    page.get_by_label("Contraseña").fill("agente-demo-1")
    page.get_by_role("button", name="ENTRAR").click()
    page.get_by_role("heading", name="Llamadas transferidas").wait_for()
    assert page.locator('[data-count="waiting"]').inner_text() == "0"

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
