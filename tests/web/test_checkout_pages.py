"""The checkout pages (web_fallback/checkout.py) through the Flask test client:
from a biller's signed request to the receipt and the signed way back, and
every refusal as a page that posts nothing."""
import datetime as dt
import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from banking_core import signing
from banking_core.models import CheckoutOrder, Payment
from tests.checkout_requests import DEMO_SECRETS, RETURN_URL, request_fields

TOKEN_PATH = re.compile(r"/conexion/cobro/([0-9a-f]{64})$")


def now():
    return dt.datetime.now(dt.timezone.utc)


def count(bank, model, *where):
    with bank.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def arrive(browser, fields):
    """The biller's page posts the request (another site: no CSRF token)."""
    return browser.post("/conexion/cobro", fields, csrf=False)


def return_link(browser) -> dict[str, str]:
    href = unescape(re.search(r'id="regresar" href="([^"]+)"', browser.text).group(1))
    parts = urlsplit(href)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == RETURN_URL
    return dict(parse_qsl(parts.query, keep_blank_values=True))


def account_option(browser, last4):
    return re.search(rf'<option value="(\d+)"[^>]*>\s*\w+ \*+{last4} ', browser.text).group(1)


@pytest.fixture
def arrived(browser, bank):
    """A customer sent by the university's site, then logged in."""
    fields = request_fields(now())
    response = arrive(browser, fields)
    assert response.status_code == 303, browser.text
    page = urlsplit(response.location).path
    assert TOKEN_PATH.search(page)
    to_login = browser.get(page)
    assert to_login.status_code == 302 and "/conexion/entrar" in to_login.location
    browser.get(to_login.location)
    action = unescape(re.search(r'action="([^"]+)"', browser.text).group(1))
    back = browser.post(action, {"clave": "10000001", "contrasena": "1357"})
    assert urlsplit(back.location).path == page
    browser.get(page)
    return fields, page


def test_the_customer_sees_the_request_as_sent_and_nothing_editable(arrived, browser):
    fields, page = arrived
    text = browser.text
    assert "Pago solicitado por el comercio" in text and "Colegiatura universitaria (25)" in text
    assert "Matrícula</dt><dd class=\"reference\">110045134" in text
    assert "$6,450.00" in text and fields["order_id"] in text
    assert "alumno@universidad.example" in text and "http://127.0.0.1:5001" in text
    assert 'name="importe"' not in text and 'name="referencia1"' not in text
    assert re.findall(r'<input(?![^>]*type="hidden")', text) == []  # only the account to pick
    assert "EJECUTAR" in text and "Cancelar y regresar a Colegiatura universitaria" in text


def test_ejecutar_pays_once_and_the_receipt_returns_the_signed_result(arrived, browser, bank):
    fields, page = arrived
    cuenta = account_option(browser, "5671")
    done = browser.post(f"{page}/ejecutar", {"cuenta": cuenta})
    assert done.status_code == 303 and urlsplit(done.location).path == page
    browser.get(page)
    assert "Comprobante de pago" in browser.text and "Su pago fue realizado con éxito." in \
        browser.text
    folio = re.search(r'class="folio">(\d{10})<', browser.text).group(1)
    result = return_link(browser)
    assert result["status"] == "pagado" and result["folio"] == folio
    assert result["order_id"] == fields["order_id"] and result["amount"] == "6450.00"
    assert signing.fields_signature_ok(DEMO_SECRETS[result["key_id"]], result)
    # A second EJECUTAR (the back button, another tab) and the biller's same
    # request again: the same receipt, one payment.
    browser.post(f"{page}/ejecutar", {"cuenta": cuenta})
    again = arrive(browser, request_fields(now(), order_id=fields["order_id"]))
    assert urlsplit(again.location).path == page
    browser.get(page)
    assert f'class="folio">{folio}<' in browser.text
    assert count(bank, Payment) == 1


def test_cancel_returns_a_signed_cancellation_and_posts_nothing(arrived, browser, bank):
    fields, page = arrived
    browser.post(f"{page}/cancelar")
    browser.get(page)
    assert "Pago cancelado" in browser.text and "No se hizo ningún cargo" in browser.text
    result = return_link(browser)
    assert result["status"] == "cancelado" and result["folio"] == "" and result["paid_at"] == ""
    assert signing.fields_signature_ok(DEMO_SECRETS["25-demo"], result)
    browser.post(f"{page}/ejecutar", {"cuenta": "1"})
    assert count(bank, Payment) == 0


def test_ejecutar_without_the_sessions_csrf_token_posts_nothing(arrived, browser, bank):
    fields, page = arrived
    refused = browser.post(f"{page}/ejecutar", {"cuenta": account_option(browser, "5671")},
                           csrf=False)
    assert refused.status_code == 400 and count(bank, Payment) == 0


def test_a_payment_the_account_cannot_cover_is_said_and_the_order_stays(browser, bank):
    fields = request_fields(now(), amount="5000.00")
    page = urlsplit(arrive(browser, fields).location).path
    browser.log_in()
    browser.get(page)
    refused = browser.post(f"{page}/ejecutar", {"cuenta": account_option(browser, "5432")})
    assert refused.status_code == 422
    assert "no tiene saldo suficiente" in browser.text and "EJECUTAR" in browser.text
    browser.post(f"{page}/ejecutar", {"cuenta": account_option(browser, "5671")})
    assert count(bank, Payment) == 1


def test_another_customer_finds_no_such_page(web_app, browser, bank):
    page = urlsplit(arrive(browser, request_fields(now())).location).path
    browser.log_in()
    browser.get(page)  # Ana opened it: it is hers
    from tests.web.conftest import Browser
    other = Browser(web_app)
    other.log_in(access_key="10000002", password="2580")
    assert other.get(page).status_code == 404
    assert other.post(f"{page}/ejecutar", {"cuenta": "1"}).status_code == 404
    assert count(bank, Payment) == 0


def test_an_order_past_its_expiry_shows_so_and_cannot_be_paid(browser, bank):
    page = urlsplit(arrive(browser, request_fields(now())).location).path
    browser.log_in()
    browser.get(page)
    cuenta = account_option(browser, "5671")
    bank.clock = lambda: now() + dt.timedelta(hours=1)
    browser.post(f"{page}/ejecutar", {"cuenta": cuenta})
    browser.get(page)
    assert "La solicitud de pago venció" in browser.text
    assert return_link(browser)["status"] == "cancelado"
    assert count(bank, Payment) == 0


def test_the_checkout_page_cannot_be_framed_or_cached(arrived, browser):
    response = browser.last
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_the_signature_never_reaches_the_logs(browser):
    fields = request_fields(now())
    with capture_logs() as logs:
        arrive(browser, fields)
        arrive(browser, {**fields, "amount": "1.00"})  # refused: bad signature
    assert {entry["event"] for entry in logs} >= {"checkout_opened", "checkout_refused"}
    assert fields["signature"] not in repr(logs) and DEMO_SECRETS["25-demo"] not in repr(logs)


@pytest.mark.parametrize("overrides,status,words", [
    (dict(sign=False, signature="0" * 64), 403, "la firma no es válida"),
    (dict(key_id="25-otra", secret="x" * 40), 403, "la firma no es válida"),
    (dict(key_id="1411-demo"), 403, "no está firmada por el comercio de ese servicio"),
    (dict(expires_at="2020-01-01T00:00:00Z"), 410, "ya venció"),
    (dict(return_url="http://evil.example/regreso"), 403, "no pertenece al comercio"),
    (dict(reference1="11004513"), 422,
     "Matrícula: tiene menos caracteres de los necesarios"),
    (dict(amount="250000.00"), 422, "no está dentro de lo que acepta este servicio"),
    (dict(email="sin-arroba"), 422, "correo electrónico para la confirmación no es válido"),
    (dict(order_id=None), 400, "incompleta o mal formada"),
], ids=["signature", "unknown-key", "other-biller", "expired", "return-url", "reference",
        "amount", "email", "missing-field"])
def test_each_refusal_is_a_clear_page_and_nothing_is_kept(browser, bank, overrides, status,
                                                          words):
    response = arrive(browser, request_fields(now(), **overrides))
    assert response.status_code == status
    assert "No podemos procesar esta solicitud de pago" in browser.text and words in browser.text
    assert "No se hizo ningún cargo" in browser.text and "Location" not in response.headers
    assert count(bank, CheckoutOrder) == 0


def test_a_field_sent_twice_is_refused(browser, bank):
    fields = request_fields(now())
    from werkzeug.datastructures import MultiDict
    response = browser.client.post("/conexion/cobro", base_url="https://localhost",
                                   data=MultiDict(list(fields.items()) + [("amount", "1.00")]))
    assert response.status_code == 400 and count(bank, CheckoutOrder) == 0


def test_another_request_under_a_used_order_id_is_refused(browser, bank):
    fields = request_fields(now())
    arrive(browser, fields)
    response = arrive(browser, request_fields(now(), order_id=fields["order_id"],
                                              amount="1.00"))
    assert response.status_code == 409 and "con otros datos" in browser.text
    assert count(bank, CheckoutOrder) == 1


def test_the_entry_takes_only_posts(browser):
    assert browser.get("/conexion/cobro").status_code == 405
