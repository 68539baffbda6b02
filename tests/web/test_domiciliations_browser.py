"""Domiciliations in a real headless Chromium (the system's /usr/bin/chromium):
the demo customer sees her internet domiciled, domiciles her tuition, and
pauses it, under the pages' Content-Security-Policy."""
from sqlalchemy import select

from banking_core.models import Domiciliation
from tests.web.test_browser import live_site, log_in  # noqa: F401 - the fixture


def test_the_demo_customer_domiciles_a_service_and_pauses_it(page, live_site):  # noqa: F811
    base, bank = live_site
    log_in(page, base)
    page.get_by_role("link", name="Domiciliaciones").click()
    page.get_by_role("heading", name="Domiciliaciones").wait_for()
    assert page.get_by_text("Lo que facture el servicio, hasta $1,000.00").is_visible()
    page.get_by_label("Número de servicio").fill("25")
    page.get_by_role("button", name="CONTINUAR").click()
    page.get_by_role("heading", name="Domiciliar un servicio").wait_for()
    page.get_by_label("Referencia 1").fill("123456789")
    page.get_by_label("Cuenta de retiro").select_option(label="Ahorro ******5432 · saldo $3,000.00")
    page.get_by_role("radio", name="Un importe fijo").check()
    page.get_by_label("Importe fijo (pesos)").fill("2,500.00")
    page.get_by_label("Día del mes").fill("31")
    page.get_by_role("button", name="DOMICILIAR").click()
    page.get_by_text("Su domiciliación quedó registrada.").wait_for()
    with bank.unit_of_work() as uow:
        tuition = uow.session.scalar(select(Domiciliation).where(
            Domiciliation.amount_centavos == 250000))
    assert tuition.day_of_month == 31 and tuition.status == "active"
    page.get_by_role("button", name="Pausar la domiciliación de Colegiatura universitaria").click()
    page.get_by_text("Su domiciliación quedó en pausa.").wait_for()
    assert page.locator(f'tr[data-domiciliacion="{tuition.id}"]').get_by_text("En pausa") \
        .is_visible()
