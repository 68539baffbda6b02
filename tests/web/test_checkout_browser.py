"""The checkout in a real headless Chromium: from the example biller's cart
(its own server, on another site: localhost, while the bank is 127.0.0.1)
through the bank's log-in and EJECUTAR back to the biller, which checks the
signed result; the cancel path; the biller's same order again; and every
refusal page a bad request gets."""
import contextlib
import datetime as dt
import html
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from banking_core import biller_keys, loader
from banking_core.models import CheckoutOrder, Payment
from tests.browser import served
from tests.checkout_requests import request_fields
from tests.web.conftest import web_settings


@contextlib.contextmanager
def serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()


@pytest.fixture
def sites(tmp_path, sqlite_url):
    """(the bank's base URL, the biller's, the bank): the bank on 127.0.0.1, the
    biller on localhost, registered as the university's return origin."""
    from example_biller import create_app as create_biller
    from linea_directa.app import create_app

    app = create_app(web_settings(tmp_path, sqlite_url, WEB_COOKIE_SECURE="0"))
    bank = app.extensions["bank"]
    loader.seed_demo(bank)
    with served(app) as bank_base:
        biller = create_biller({"BANK_URL": bank_base, "DATA": str(tmp_path / "biller.db")})
        with serving(biller) as port:
            biller_base = f"http://localhost:{port}"
            biller_keys.set_addresses(bank, "25", return_origins=[biller_base])
            yield bank_base, biller_base, bank


def count(bank, model):
    with bank.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def folios(bank):
    with bank.unit_of_work() as uow:
        return uow.session.scalars(select(Payment.folio)).all()


def to_the_bank(page, biller_base):
    """The student pays the cart; the signed request the biller's page sends."""
    page.goto(f"{biller_base}/")
    page.get_by_role("button", name="Pagar en Conexión Personal").click()
    page.get_by_role("heading", name="Confirma la información").wait_for()
    fields = page.evaluate("""() => Object.fromEntries(
        [...document.querySelectorAll('form input[type=hidden]')].map(i => [i.name, i.value]))""")
    page.get_by_role("button", name="Confirmar").click()
    return fields


def log_in(page):
    page.get_by_label("Clave de acceso").fill("10000001")
    page.get_by_label("Contraseña").fill("1357")
    page.get_by_role("button", name="ENTRAR").click()
    page.get_by_role("heading", name="Pago solicitado por el comercio").wait_for()


def test_from_the_billers_cart_through_ejecutar_back_to_a_verified_payment(page, sites):
    bank_base, biller_base, bank = sites
    request = to_the_bank(page, biller_base)
    order_id = request["order_id"]
    assert page.url.startswith(f"{bank_base}/conexion/entrar")
    log_in(page)
    for shown in ("Colegiatura universitaria (25)", "110045134", "$6,450.00", order_id,
                  "alumno@universidad.example", biller_base):
        assert page.get_by_text(shown, exact=False).first.is_visible(), shown
    assert page.locator("main input:not([type=hidden])").count() == 0  # nothing to edit
    page.get_by_label("Cuenta de retiro").select_option(
        label="Cheques ******5671 · saldo $25,000.00")
    page.get_by_role("button", name="EJECUTAR").click()
    page.get_by_role("heading", name="Comprobante de pago").wait_for()
    [folio] = folios(bank)
    assert page.locator(".folio").inner_text() == folio
    assert page.get_by_text("Su pago fue realizado con éxito.").is_visible()

    page.get_by_role("link", name="Regresar a Colegiatura universitaria").click()
    page.get_by_role("heading", name="Pago verificado").wait_for()
    assert page.url.startswith(f"{biller_base}/regreso?")
    assert page.locator("#folio").inner_text() == folio
    page.get_by_role("link", name="Ver el historial de pagos").click()
    row = page.get_by_role("row").filter(has_text=order_id)
    assert "pagado" in row.inner_text() and folio in row.inner_text()

    # The biller's same order again (its page posts the same request once
    # more): the first result, never a second payment.
    post_from_another_site(page, bank_base, request, heading="Comprobante de pago")
    assert page.locator(".folio").inner_text() == folio
    assert count(bank, Payment) == 1


def test_cancel_returns_to_the_biller_with_a_verified_cancellation(page, sites):
    bank_base, biller_base, bank = sites
    to_the_bank(page, biller_base)
    log_in(page)
    page.get_by_role("button", name="Cancelar y regresar a Colegiatura universitaria").click()
    page.get_by_role("heading", name="Pago cancelado").wait_for()
    page.get_by_role("link", name="Regresar a Colegiatura universitaria").click()
    page.get_by_role("heading", name="Pago cancelado").wait_for()
    assert page.url.startswith(f"{biller_base}/regreso?") and "status=cancelado" in page.url
    assert page.get_by_text("firma válida").is_visible()
    assert count(bank, Payment) == 0


def test_a_result_forged_on_the_way_back_is_not_believed(page, sites):
    bank_base, biller_base, bank = sites
    to_the_bank(page, biller_base)
    log_in(page)
    page.get_by_role("button", name="EJECUTAR").click()
    link = page.get_by_role("link", name="Regresar a Colegiatura universitaria")
    page.goto(link.get_attribute("href").replace("amount=6450.00", "amount=1.00"))
    page.get_by_role("heading", name="Firma inválida").wait_for()


def post_from_another_site(page, bank_base, fields,
                           heading="No podemos procesar esta solicitud de pago"):
    """A biller's page (here: a blank one) posting `fields` to the bank."""
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    page.set_content(f'<form method="post" action="{bank_base}/conexion/cobro">{inputs}'
                     '<button>Pagar</button></form>')
    page.get_by_role("button", name="Pagar").click()
    page.get_by_role("heading", name=heading).wait_for()
    return page.locator("main").inner_text()


def test_each_refused_request_gets_a_clear_page_and_nothing_is_kept(page, sites):
    bank_base, biller_base, bank = sites
    now = dt.datetime.now(dt.timezone.utc)
    back = f"{biller_base}/regreso"
    good = request_fields(now, return_url=back)
    cases = {
        "bad signature": ({**good, "amount": "1.00"}, "la firma no es válida"),
        "unknown biller": (request_fields(now, key_id="77-nadie", secret="s" * 40,
                                          return_url=back), "la firma no es válida"),
        "expired": (request_fields(now - dt.timedelta(hours=1), return_url=back), "ya venció"),
        "return URL elsewhere": (request_fields(now, return_url="http://127.0.0.1:9/x"),
                                 "no pertenece al comercio"),
        "reference": (request_fields(now, reference1="12345", return_url=back),
                      "Matrícula: tiene menos caracteres"),
        "amount": (request_fields(now, amount="0.50", return_url=back),
                   "no está dentro de lo que acepta"),
    }
    for name, (fields, words) in cases.items():
        assert words in post_from_another_site(page, bank_base, fields), name
        assert page.get_by_text("No se hizo ningún cargo").is_visible(), name
    assert count(bank, CheckoutOrder) == 0
    bank.open_checkout(good)
    conflict = request_fields(now, order_id=good["order_id"], amount="10.00", return_url=back)
    assert "con otros datos" in post_from_another_site(page, bank_base, conflict)
    assert count(bank, CheckoutOrder) == 1 and count(bank, Payment) == 0
