"""Conexión Personal driven in a real headless Chromium (Playwright, with the
system's /usr/bin/chromium: no browser is ever downloaded)."""
import pytest
from sqlalchemy import select

from banking_core import loader
from banking_core.models import Account, Payment
from tests.browser import ARTIFACTS, served
from tests.web.conftest import web_settings

@pytest.fixture
def live_site(tmp_path, sqlite_url):
    """The whole app on a real HTTP port (plain http on localhost, so the
    session cookie is not Secure here, as in development)."""
    from linea_directa.app import create_app

    app = create_app(web_settings(tmp_path, sqlite_url, WEB_COOKIE_SECURE="0"))
    loader.seed_demo(app.extensions["bank"])
    with served(app) as base:
        yield base, app.extensions["bank"]


def payments(bank):
    with bank.unit_of_work() as uow:
        return uow.session.scalars(select(Payment)).all()


def log_in(page, base):
    page.goto(f"{base}/conexion/")
    page.get_by_label("Clave de acceso").fill("10000001")
    page.get_by_label("Contraseña").fill("1357")
    page.get_by_role("button", name="ENTRAR").click()
    page.get_by_role("heading", name="Le damos la bienvenida, Ana López").wait_for()


def to_review(page, *, amount="650.50"):
    page.get_by_role("link", name="Búsqueda de Servicio por Número").click()
    page.get_by_label("Número de servicio").fill("1411")
    page.get_by_role("button", name="BUSCAR").click()
    assert page.get_by_text("Runtime WiFi Internet residencial").is_visible()
    page.get_by_role("link", name="PAGAR Runtime WiFi Internet residencial").click()
    page.get_by_label("Referencia 1").fill("9876543217")
    page.get_by_label("Cuenta de retiro").select_option(label="Cheques ******5671 · saldo $25,000.00")
    page.get_by_label("Importe (pesos)").fill(amount)
    page.get_by_role("button", name="CONTINUAR").click()
    page.get_by_role("heading", name="Confirme su pago").wait_for()


def test_the_demo_customer_pays_service_1411_and_sees_the_folio(page, live_site):
    base, bank = live_site
    log_in(page, base)
    to_review(page)
    page.get_by_role("button", name="EJECUTAR").click()
    page.get_by_role("heading", name="Comprobante de pago").wait_for()
    [payment] = payments(bank)
    assert page.locator(".folio").inner_text() == payment.folio
    assert page.get_by_text("Su pago fue realizado con éxito.").is_visible()
    assert page.get_by_text("$650.50").is_visible()
    # Imprimir opens the browser's print dialog (stood in for: headless has none).
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.get_by_role("button", name="Imprimir").click()
    assert page.evaluate("window.__printed") is True
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "receipt.png"), full_page=True)
    page.set_viewport_size({"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scroll
    page.screenshot(path=str(ARTIFACTS / "receipt-phone.png"), full_page=True)
    page.emulate_media(media="print")
    assert not page.get_by_role("navigation").is_visible()  # the print stylesheet
    assert page.locator(".folio").is_visible()
    with page.expect_download() as download:
        page.emulate_media(media="screen")
        page.get_by_role("link", name="Descargar PDF").click()
    assert download.value.suggested_filename == f"comprobante-{payment.folio}.pdf"


def test_a_double_submit_of_ejecutar_posts_once(page, live_site):
    base, bank = live_site
    log_in(page, base)
    to_review(page)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST"
            and r.url.endswith("/ejecutar") else None)
    # Two submissions of the same form, as an impatient double click sends them.
    page.evaluate("""() => { const f = document.querySelector('form[action$="/ejecutar"]');
                            f.requestSubmit(); setTimeout(() => f.requestSubmit(), 0); }""")
    page.get_by_role("heading", name="Comprobante de pago").wait_for()
    page.reload()  # and a reload of the receipt
    page.get_by_role("heading", name="Comprobante de pago").wait_for()
    assert len(posts) >= 2
    [payment] = payments(bank)
    assert page.locator(".folio").inner_text() == payment.folio


def test_a_forged_account_id_is_refused(page, live_site):
    base, bank = live_site
    with bank.unit_of_work() as uow:
        carlos = uow.session.scalar(select(Account.id).where(Account.number == "0012340002"))
    log_in(page, base)
    page.goto(f"{base}/conexion/servicios/1411/pagar")
    page.get_by_label("Referencia 1").fill("9876543217")
    page.evaluate(f"document.querySelector('#cuenta option').value = '{carlos}'")
    page.get_by_label("Importe (pesos)").fill("100")
    page.get_by_role("button", name="CONTINUAR").click()
    assert page.locator("#cuenta-error").inner_text() == \
        "Esa cuenta no está disponible para esta sesión."
    assert page.get_by_label("Cuenta de retiro").get_attribute("aria-invalid") == "true"
    assert payments(bank) == []


def tab_to(page, text: str, limit: int = 25) -> None:
    """Press Tab until the focused element's text or label is `text`, as a
    keyboard user would; fails if it is never reached."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => { const e = document.activeElement;
            return (e.labels && e.labels[0] ? e.labels[0].textContent : e.textContent).trim(); }""")
        if focused == text:
            return
    raise AssertionError(f"{text!r} cannot be reached with Tab")


def test_log_in_search_and_pay_with_the_keyboard_alone(page, live_site):
    base, bank = live_site
    page.goto(f"{base}/conexion/")
    tab_to(page, "Saltar al contenido")  # the first stop
    tab_to(page, "Clave de acceso")
    page.keyboard.type("10000001")
    tab_to(page, "Contraseña")
    page.keyboard.type("1357")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Le damos la bienvenida, Ana López").wait_for()
    tab_to(page, "Búsqueda de Servicio por Número")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Búsqueda de Servicio por Número").wait_for()
    tab_to(page, "Número de servicio")
    page.keyboard.type("1411")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="PAGAR Runtime WiFi Internet residencial").wait_for()
    tab_to(page, "PAGAR")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Pago de servicio").wait_for()
    tab_to(page, "Referencia 1 (Número de cliente)")
    page.keyboard.type("9876543217")
    tab_to(page, "Importe (pesos)")
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Confirme su pago").wait_for()
    tab_to(page, "EJECUTAR")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Comprobante de pago").wait_for()
    assert len(payments(bank)) == 1
