"""Conexión Personal's domiciliations, through the Flask test client: the
list, the form (every refusal next to its field, nothing written), pausing,
resuming and cancelling with the session's CSRF token."""
import re

import pytest
from sqlalchemy import select

from banking_core.domiciliations import today
from banking_core.models import Domiciliation
from tests.integration.helpers import without_demo_domiciliations

OPERATION = re.compile(r'name="operacion" value="([0-9a-f]{32})"')


@pytest.fixture(autouse=True)
def no_demo_domiciliations(bank):
    without_demo_domiciliations(bank)


def domiciliations(bank):
    with bank.unit_of_work() as uow:
        return uow.session.scalars(select(Domiciliation).order_by(Domiciliation.id)).all()


def form_data(browser, bank, **changes):
    browser.get("/conexion/servicios/1411/domiciliar")
    data = {"operacion": OPERATION.search(browser.text).group(1),
            "referencia1": "9876543217", "cuenta": browser.account_id("5671"),
            "modo": "fijo", "importe": "349.00", "tope": "", "dia": "21",
            "inicio": today(bank).isoformat(), "fin": ""}
    data.update(changes)
    return data


def test_the_menu_leads_to_an_empty_list_and_the_search_to_the_form(logged_in):
    logged_in.get("/conexion/inicio")
    assert 'href="/conexion/domiciliaciones">Domiciliaciones</a>' in logged_in.text
    logged_in.get("/conexion/domiciliaciones")
    assert "Aún no tiene servicios domiciliados." in logged_in.text
    found = logged_in.get("/conexion/domiciliaciones?servicio=1411")
    assert found.status_code == 302 and found.location.endswith("/servicios/1411/domiciliar")
    logged_in.get("/conexion/domiciliaciones?servicio=9999")
    assert logged_in.last.status_code == 422
    assert logged_in.errors() == ["No existe un servicio con ese número."]
    logged_in.get("/conexion/servicios/buscar?numero=1411")
    assert 'href="/conexion/servicios/1411/domiciliar"' in logged_in.text


def test_a_customer_domiciles_a_service_and_sees_it_listed(logged_in, bank):
    response = logged_in.post("/conexion/servicios/1411/domiciliar", form_data(logged_in, bank))
    assert response.status_code == 303, logged_in.errors()
    [dom] = domiciliations(bank)
    assert (dom.amount_mode, dom.amount_centavos, dom.day_of_month, dom.created_channel) == \
        ("fixed", 34900, 21, "web")
    logged_in.get(response.location)
    assert "Su domiciliación quedó registrada. El primer cargo será el" in logged_in.text
    row = re.search(rf'<tr data-domiciliacion="{dom.id}">(.*?)</tr>', logged_in.text, re.S).group(1)
    assert "Runtime WiFi Internet residencial" in row and "9876543217" in row
    assert "*5671" in row and "$349.00" in row and "Activa" in row and ">Pausar<" in row


def test_a_double_submit_domiciles_once(logged_in, bank):
    data = form_data(logged_in, bank)
    logged_in.post("/conexion/servicios/1411/domiciliar", data)
    again = logged_in.post("/conexion/servicios/1411/domiciliar", data)
    assert again.status_code == 303 and len(domiciliations(bank)) == 1


def test_the_amount_billed_takes_a_ceiling(logged_in, bank):
    data = form_data(logged_in, bank, modo="facturado", importe="", tope="1,000.00", dia="31")
    assert logged_in.post("/conexion/servicios/1411/domiciliar", data).status_code == 303
    [dom] = domiciliations(bank)
    assert (dom.amount_mode, dom.amount_centavos, dom.ceiling_centavos) == ("billed", None, 100000)
    logged_in.get("/conexion/domiciliaciones")
    assert "Lo que facture el servicio, hasta $1,000.00" in logged_in.text


def test_each_refusal_is_said_next_to_its_field_and_nothing_is_written(logged_in, bank):
    cases = [
        (dict(referencia1="9876543210"), "referencia1",
         "Número de cliente: el dígito verificador no coincide."),
        (dict(importe="0.50"), "importe", "Este servicio acepta pagos de $1.00 a $50,000.00."),
        (dict(importe="mucho"), "importe", "Escriba un importe válido, por ejemplo 349.50."),
        (dict(modo="facturado", tope=""), "tope", "Escriba un importe válido, por ejemplo 349.50."),
        (dict(dia="32"), "dia", "Elija un día del mes, del 1 al 31."),
        (dict(dia="x"), "dia", "Elija un día del mes, del 1 al 31."),
        (dict(inicio="2020-01-01"), "inicio", "La fecha de inicio no puede ser anterior a hoy."),
        (dict(inicio="ayer"), "inicio", "Escriba una fecha válida, por ejemplo 2027-01-31."),
        (dict(fin="2020-01-01"), "fin",
         "La fecha de término debe ser igual o posterior a la de inicio."),
        (dict(cuenta="999999"), "cuenta", "Esa cuenta no está disponible para esta sesión."),
        (dict(modo="a veces"), "modo",
         "Elija si el cargo es por un importe fijo o por lo que facture el servicio."),
    ]
    for changes, field, words in cases:
        response = logged_in.post("/conexion/servicios/1411/domiciliar",
                                  form_data(logged_in, bank, **changes))
        assert response.status_code == 422, changes
        assert words in logged_in.errors(), (changes, logged_in.errors())
        assert f'aria-describedby="{field}-error"' in logged_in.text
        typed = next(iter(changes.values()))
        if field not in ("cuenta", "modo") and typed:
            assert f'value="{typed}"' in logged_in.text  # what was typed is kept
    assert domiciliations(bank) == []


def test_the_same_service_twice_is_refused_in_words(logged_in, bank):
    logged_in.post("/conexion/servicios/1411/domiciliar", form_data(logged_in, bank))
    logged_in.post("/conexion/servicios/1411/domiciliar",
                   form_data(logged_in, bank, dia="3"))
    assert logged_in.last.status_code == 422
    assert "Ese servicio ya está domiciliado con esas referencias." in logged_in.text


def test_pause_resume_and_cancel_with_the_sessions_token(logged_in, bank):
    logged_in.post("/conexion/servicios/1411/domiciliar", form_data(logged_in, bank))
    [dom] = domiciliations(bank)
    logged_in.get("/conexion/domiciliaciones")
    forged = logged_in.post(f"/conexion/domiciliaciones/{dom.id}/pausar", csrf=False)
    assert forged.status_code == 400 and domiciliations(bank)[0].status == "active"
    for action, status, words in (("pausar", "paused", "quedó en pausa"),
                                  ("reanudar", "active", "está activa de nuevo"),
                                  ("cancelar", "cancelled", "quedó cancelada")):
        response = logged_in.post(f"/conexion/domiciliaciones/{dom.id}/{action}")
        assert response.status_code == 303
        assert domiciliations(bank)[0].status == status
        logged_in.get(response.location)
        assert words in logged_in.text
    assert ">Pausar<" not in logged_in.text and "Cancelada" in logged_in.text
    logged_in.post(f"/conexion/domiciliaciones/{dom.id}/reanudar")
    logged_in.get("/conexion/domiciliaciones")
    assert "Esa domiciliación ya no está vigente: no se puede cambiar." in logged_in.text
    assert domiciliations(bank)[0].status == "cancelled"


def test_another_customers_domiciliation_is_not_found(browser, bank, web_app):
    browser.log_in()
    browser.post("/conexion/servicios/1411/domiciliar", form_data(browser, bank))
    [dom] = domiciliations(bank)
    browser.post("/conexion/salir")
    browser.log_in(access_key="10000002", password="2580")
    browser.get("/conexion/domiciliaciones")
    assert browser.post(f"/conexion/domiciliaciones/{dom.id}/cancelar").status_code == 404
    assert "9876543217" not in browser.text
    assert domiciliations(bank)[0].status == "active"
    assert browser.post(f"/conexion/domiciliaciones/{dom.id}/borrar").status_code == 404


def test_the_pages_need_a_session(browser):
    response = browser.get("/conexion/domiciliaciones")
    assert response.status_code == 302 and "/conexion/entrar" in response.location
