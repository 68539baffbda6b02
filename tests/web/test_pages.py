"""Conexión Personal, page by page, through the Flask test client."""
import re

import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from banking_core import errors
from banking_core.models import Account, OutboxMessage, Payment


def payments(bank):
    with bank.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(Payment))


def account_id_by_number(bank, number):
    with bank.unit_of_work() as uow:
        return uow.session.scalar(select(Account.id).where(Account.number == number))


def fill(browser, *, service_key="1411", references=("9876543217",), last4="5671",
         amount="650.50", operation=None):
    operation = operation or browser.payment_form(service_key)
    data = {"operacion": operation, "cuenta": browser.account_id(last4) or last4,
            "importe": amount}
    data.update({f"referencia{n}": value for n, value in enumerate(references, 1)})
    return data


def review_and_execute(browser, service_key="1411", **kw):
    data = fill(browser, service_key=service_key, **kw)
    review = browser.post(f"/conexion/servicios/{service_key}/pagar", data)
    assert review.status_code == 200, browser.errors()
    assert "EJECUTAR" in browser.text
    done = browser.post(f"/conexion/servicios/{service_key}/ejecutar", data)
    return data, done


# ---- log-in -----------------------------------------------------------------
def test_login_page_ties_labels_to_inputs(browser):
    browser.get("/conexion/entrar")
    for field in ("clave", "contrasena"):
        assert f'<label for="{field}">' in browser.text and f'id="{field}"' in browser.text
    assert 'type="password"' in browser.text and "Acceso Personalizado" in browser.text


def test_a_wrong_password_states_the_rule_and_keeps_the_key(browser):
    response = browser.log_in(password="9999")
    assert response.status_code == 401
    assert "no coinciden" in browser.text and "se bloquea después de 3 intentos" in browser.text
    assert "Le quedan" not in browser.text  # no countdown: only real keys would have one
    assert 'value="10000001"' in browser.text and "9999" not in browser.text


def test_three_failures_block_the_credential_for_every_channel(browser, bank):
    browser.log_in(password="0000")
    browser.log_in(password="0001")
    browser.log_in(password="0002")
    assert browser.log_in().status_code == 401 and "si su acceso está bloqueado" in browser.text
    with pytest.raises(errors.CredentialBlocked):  # the phone line sees the same block
        bank.authenticate(method="access_key", identifier="10000001", nip="1357")


def test_a_malformed_access_key_is_said_with_the_rule(browser):
    browser.log_in(access_key="12ab")
    assert "la clave tiene 8 dígitos" in browser.text


def test_pages_need_a_session_and_come_back_after_login(browser):
    response = browser.get("/conexion/servicios/buscar?numero=1411")
    assert response.status_code == 302 and "/conexion/entrar" in response.location
    browser.get(response.location)
    nxt = re.search(r'action="([^"]+)"', browser.text).group(1).replace("&amp;", "&")
    response = browser.post(nxt, {"clave": "10000001", "contrasena": "1357"})
    assert response.location.endswith("/conexion/servicios/buscar?numero=1411")


def test_login_never_redirects_off_site(browser):
    browser.get("/conexion/entrar?next=//evil.example/x")
    response = browser.post("/conexion/entrar?next=//evil.example/x",
                            {"clave": "10000001", "contrasena": "1357"})
    assert response.location == "/conexion/inicio"


def test_session_cookie_is_httponly_samesite_and_secure(browser):
    response = browser.log_in()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_the_session_expires_after_inactivity(logged_in, bank, monkeypatch):
    assert logged_in.get("/conexion/inicio").status_code == 200
    later = bank.sessions.clock() + 11 * 60
    monkeypatch.setattr(bank.sessions, "clock", lambda: later)
    response = logged_in.get("/conexion/inicio")
    assert response.status_code == 302 and "/conexion/entrar" in response.location
    logged_in.get(response.location)
    assert "terminó por inactividad" in logged_in.text


def test_logout_ends_the_session(logged_in):
    logged_in.get("/conexion/inicio")
    response = logged_in.post("/conexion/salir")
    assert response.status_code == 302
    assert logged_in.get("/conexion/inicio").status_code == 302


def test_forms_without_the_csrf_token_are_refused(logged_in, bank):
    data = fill(logged_in)
    response = logged_in.post("/conexion/servicios/1411/ejecutar", data, csrf=False)
    assert response.status_code == 400 and payments(bank) == 0
    response = logged_in.post("/conexion/servicios/1411/ejecutar",
                              dict(data, csrf_token="forged"))
    assert response.status_code == 400 and payments(bank) == 0
    assert logged_in.post("/conexion/salir", csrf=False).status_code == 400


def test_pages_are_not_cached(logged_in):
    response = logged_in.get("/conexion/inicio")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"


# ---- main menu and search ---------------------------------------------------
def test_main_menu_shows_servicios_and_masked_accounts(logged_in):
    logged_in.get("/conexion/inicio")
    text = logged_in.text
    assert "Servicios" in text and "Búsqueda de Servicio por Número" in text
    assert "******5671" in text and "$25,000.00" in text
    assert "0012345671" not in text  # never the whole account number


def test_search_shows_the_service_name_and_number_with_pagar(logged_in):
    logged_in.get("/conexion/servicios/buscar?numero=1411")
    assert "Runtime WiFi Internet residencial" in logged_in.text
    assert 'href="/conexion/servicios/1411/pagar"' in logged_in.text and "PAGAR" in logged_in.text


@pytest.mark.parametrize("number, message", [
    ("9999", "No existe un servicio con ese número."),
    ("14a1", "No existe un servicio con ese número."),
    ("", "Escriba el número del servicio."),
])
def test_search_errors_are_said_next_to_the_field(logged_in, number, message):
    logged_in.get(f"/conexion/servicios/buscar?numero={number}")
    assert logged_in.errors() == [message]
    assert 'aria-describedby="numero-error"' in logged_in.text


def test_an_unknown_service_has_no_payment_form(logged_in):
    assert logged_in.get("/conexion/servicios/9999/pagar").status_code == 404


# ---- the payment form -------------------------------------------------------
def test_the_form_asks_exactly_the_references_the_service_needs(logged_in):
    logged_in.get("/conexion/servicios/1411/pagar")
    assert "Referencia 1 <span" in logged_in.text and "Número de cliente" in logged_in.text
    assert "referencia2" not in logged_in.text
    logged_in.get("/conexion/servicios/5005/pagar")
    assert "Número de contrato" in logged_in.text and "Periodo (MMAA)" in logged_in.text
    assert 'name="referencia2"' in logged_in.text and "referencia3" not in logged_in.text
    # The withdrawal accounts: masked to their last 4, with their balance.
    assert "Cheques ******5671 · saldo $25,000.00" in logged_in.text
    assert "0012345671" not in logged_in.text


def test_field_errors_keep_what_was_typed(logged_in, bank):
    data = fill(logged_in, references=("9876543210",), amount="abc")
    response = logged_in.post("/conexion/servicios/1411/pagar", data)
    assert response.status_code == 422
    assert logged_in.errors() == ["Número de cliente: el dígito verificador no coincide.",
                                  "Escriba un importe válido, por ejemplo 349.50."]
    assert 'value="9876543210"' in logged_in.text and 'value="abc"' in logged_in.text
    assert 'aria-describedby="referencia1-error"' in logged_in.text
    assert payments(bank) == 0


@pytest.mark.parametrize("references, amount, field_error", [
    (("98765432",), "100", "Número de cliente: tiene menos caracteres de los necesarios."),
    (("98765432A7",), "100", "Número de cliente: debe tener solo números."),
    (("9876543217",), "0.001", "Escriba un importe válido, por ejemplo 349.50."),
    (("9876543217",), "30000", "La cuenta de retiro no tiene saldo suficiente para este pago."),
])
def test_each_refusal_is_said_next_to_its_field(logged_in, references, amount, field_error):
    data = fill(logged_in, references=references, amount=amount)
    assert logged_in.post("/conexion/servicios/1411/pagar", data).status_code == 422
    assert logged_in.errors() == [field_error]


def test_an_amount_outside_the_service_range_names_the_range(logged_in):
    data = fill(logged_in, service_key="25", references=("123456789",), amount="0.50")
    logged_in.post("/conexion/servicios/25/pagar", data)
    assert any(e.startswith("Este servicio acepta pagos de $") for e in logged_in.errors())


@pytest.mark.parametrize("web_env", [{"DAILY_LIMIT_WEB": "1000"}])
def test_over_the_daily_web_limit_is_refused_with_what_is_left(logged_in, bank, web_env):
    _, done = review_and_execute(logged_in, amount="800")
    assert done.status_code == 303
    data = fill(logged_in, amount="300")
    logged_in.post("/conexion/servicios/1411/pagar", data)
    logged_in.post("/conexion/servicios/1411/ejecutar", data)
    assert logged_in.last.status_code == 422
    assert logged_in.errors() == ["El importe rebasa el límite diario de pagos por internet. "
                                  "Hoy puede pagar hasta $200.00."]
    assert payments(bank) == 1


def test_corregir_returns_to_the_form_with_the_values(logged_in):
    data = fill(logged_in)
    logged_in.post("/conexion/servicios/1411/pagar", data)
    logged_in.post("/conexion/servicios/1411/pagar", dict(data, accion="corregir"))
    assert "CONTINUAR" in logged_in.text and 'value="650.50"' in logged_in.text
    assert f'value="{data["operacion"]}"' in logged_in.text


# ---- EJECUTAR, exactly once -------------------------------------------------
def test_a_payment_from_search_to_receipt(logged_in, bank):
    data, done = review_and_execute(logged_in)
    assert done.status_code == 303
    folio = done.location.rsplit("/", 1)[1]
    logged_in.get(done.location)
    text = logged_in.text
    assert "Su pago fue realizado con éxito." in text
    for fact in (folio, "$650.50", "Runtime WiFi Internet residencial (1411)", "9876543217",
                 "terminación 5671", "Conexión Personal"):
        assert fact in text
    with bank.unit_of_work() as uow:
        payment = uow.session.scalars(select(Payment)).one()
        assert (payment.channel, payment.amount_centavos) == ("web", 65050)
        local = payment.posted_at.astimezone(bank.policy.timezone)
        assert local.strftime("%d/%m/%Y") in text and local.strftime("%H:%M:%S") in text
        mail = uow.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "payment_confirmation")).one()
        assert mail.recipient == "ana@example.com"
        assert mail.payload["folio"] == folio and mail.payload["amount"] == "$650.50"
    assert bank.verify().ok


def test_double_submit_reload_and_back_post_once_with_one_receipt(logged_in, bank):
    data, first = review_and_execute(logged_in)
    again = logged_in.post("/conexion/servicios/1411/ejecutar", data)  # double click / reload
    # Back to the review (the browser re-posts the form) and EJECUTAR again.
    logged_in.post("/conexion/servicios/1411/pagar", data)
    back = logged_in.post("/conexion/servicios/1411/ejecutar", data)
    assert first.location == again.location == back.location
    assert payments(bank) == 1


def test_the_same_operation_with_other_data_is_refused(logged_in, bank):
    data, _ = review_and_execute(logged_in)
    response = logged_in.post("/conexion/servicios/1411/ejecutar", dict(data, importe="10"))
    assert response.status_code == 422
    assert "Este pago ya se envió con otros datos" in logged_in.text
    assert payments(bank) == 1


def test_a_new_form_is_a_new_payment(logged_in, bank):
    review_and_execute(logged_in)
    review_and_execute(logged_in)
    assert payments(bank) == 2


def test_an_operation_id_that_is_not_ours_is_refused(logged_in, bank):
    data = fill(logged_in)
    response = logged_in.post("/conexion/servicios/1411/ejecutar",
                              dict(data, operacion="x' OR 1=1"))
    assert response.status_code == 400 and payments(bank) == 0


def test_paying_from_another_customers_account_is_refused_and_logged(logged_in, bank):
    carlos_account = account_id_by_number(bank, "0012340002")
    data = fill(logged_in)
    data["cuenta"] = str(carlos_account)
    with capture_logs() as logs:
        review = logged_in.post("/conexion/servicios/1411/pagar", data)
        assert review.status_code == 422
        assert logged_in.errors() == ["Esa cuenta no está disponible para esta sesión."]
        logged_in.post("/conexion/servicios/1411/ejecutar", data)  # skipping the review
        assert logged_in.last.status_code == 422
    refused = [e for e in logs if e["event"] == "account_refused"]
    assert len(refused) == 2 and refused[1]["channel"] == "web"
    assert refused[0]["account_id"] == str(carlos_account)
    assert payments(bank) == 0


# ---- receipts and history ---------------------------------------------------
def test_the_receipt_prints_and_downloads_as_pdf(logged_in):
    from io import BytesIO

    from pypdf import PdfReader

    _, done = review_and_execute(logged_in)
    folio = done.location.rsplit("/", 1)[1]
    logged_in.get(done.location)
    assert "conexion.css" in logged_in.text
    # Imprimir is wired by a script file (the policy allows no onclick=).
    assert '<script src="/conexion/static/recibo.js" defer></script>' in logged_in.text
    assert '<button type="button" id="imprimir">Imprimir</button>' in logged_in.text
    script = logged_in.get("/conexion/static/recibo.js").get_data(as_text=True)
    assert 'getElementById("imprimir")' in script and "window.print()" in script
    css = logged_in.get("/conexion/static/conexion.css").get_data(as_text=True)
    assert "@media print" in css
    pdf = logged_in.get(f"/conexion/pagos/{folio}.pdf")
    assert pdf.mimetype == "application/pdf"
    assert f'filename="comprobante-{folio}.pdf"' in pdf.headers["Content-Disposition"]
    text = PdfReader(BytesIO(pdf.data)).pages[0].extract_text()
    for fact in (folio, "$650.50", "Runtime WiFi", "9876543217", "terminación 5671",
                 "Ana López"):
        assert fact in text


def test_another_customers_receipt_is_not_found(web_app, logged_in):
    from tests.web.conftest import Browser

    _, done = review_and_execute(logged_in)
    carlos = Browser(web_app)
    carlos.log_in(access_key="10000002", password="2580")
    assert carlos.get(done.location).status_code == 404
    assert carlos.get(done.location + ".pdf").status_code == 404
    assert carlos.get("/conexion/pagos/12345").status_code == 404


def test_history_lists_payments_of_every_channel_with_their_receipts(logged_in, bank):
    principal = bank.authenticate(method="access_key", identifier="10000001", nip="1357")
    phone = bank.post_payment(
        principal, channel="phone", account_id=account_id_by_number(bank, "0012345671"),
        service_key="25", references=["123456789"], amount_centavos=250000,
        idempotency_key="CA-history-test:pago:1")
    _, done = review_and_execute(logged_in)
    logged_in.get("/conexion/pagos")
    text = logged_in.text
    assert phone.folio in text and done.location.rsplit("/", 1)[1] in text
    assert "Línea Directa" in text and "Conexión Personal" in text
    assert text.index(done.location.rsplit("/", 1)[1]) < text.index(phone.folio)  # newest first
    assert logged_in.get(f"/conexion/pagos/{phone.folio}").status_code == 200
