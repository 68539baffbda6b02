"""Refusals are pages of the site, in Spanish: every error status, on both
browser channels, shows the channel's header, what happened and a way back
(home when logged in, the log-in page otherwise); the desk's .json polls get
JSON; the IVR's webhooks keep their own answers, never these pages."""
import re

import pytest
from flask import abort

from tests.desk.conftest import (  # noqa: F401 - the desk's fixtures, reused as they are
    Agent, database_url, desk_app, desk_env, desk_settings, twilio,
)
from tests.web.conftest import Browser

# Status -> the heading its page must have (the words a customer reads).
HEADINGS = {
    400: "Solicitud no válida", 401: "Necesita ingresar", 403: "Acceso no permitido",
    404: "Página no encontrada", 405: "Operación no permitida",
    413: "Envío demasiado grande", 429: "Demasiados intentos", 500: "Ocurrió un problema",
}
ENGLISH = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 413: "Request Entity Too Large",
           429: "Too Many Requests", 500: "Internal Server Error"}
CONEXION = {"brand": "Conexión Personal", "login": ("/conexion/entrar", "Ir a la página de acceso"),
            "home": ("/conexion/inicio", "Ir a Mis cuentas")}
DESK = {"brand": "Línea Directa · Escritorio de ejecutivos",
        "login": ("/escritorio/entrar", "Ir a la página de entrada"),
        "home": ("/escritorio/", "Volver a la lista de llamadas")}
TOO_BIG = {"relleno": "x" * (65 * 1024)}  # over MAX_CONTENT_LENGTH (64 KiB)


def fail(status):
    if status == 500:
        raise RuntimeError("a bug")
    abort(status)


@pytest.fixture
def app(desk_app):
    """The app with a view on each channel that fails with the status asked:
    every status can be reached, on either side."""
    for prefix, name in (("/conexion", "conexion"), ("/escritorio", "desk")):
        desk_app.add_url_rule(f"{prefix}/_falla/<int:status>", f"{name}._falla", fail)
        desk_app.add_url_rule(f"{prefix}/_falla/<int:status>.json", f"{name}._falla_json", fail)
    # As in production: an exception is a 500 page, not a traceback in the test.
    desk_app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    return desk_app


def assert_page(response, status, site, way_back):
    page = response.get_data(as_text=True)
    assert response.status_code == status, (status, page[:300])
    assert response.mimetype == "text/html"
    assert f"<h1>{HEADINGS[status]}</h1>" in page
    assert re.search(r'<p class="error" role="alert">[^<]+</p>', page)
    assert f'<span class="brand">{site["brand"]}</span>' in page
    href, text = site[way_back]
    assert f'<a href="{href}">{text}</a>' in page
    assert ENGLISH[status] not in page


@pytest.mark.parametrize("status", sorted(HEADINGS))
def test_every_error_on_conexion_is_its_page_with_a_way_back(app, status):
    anonymous = Browser(app)
    assert_page(anonymous.get(f"/conexion/_falla/{status}"), status, CONEXION, "login")
    customer = Browser(app)
    assert customer.log_in().status_code == 302
    assert_page(customer.get(f"/conexion/_falla/{status}"), status, CONEXION, "home")


@pytest.mark.parametrize("status", sorted(HEADINGS))
def test_every_error_on_the_desk_is_its_page_with_a_way_back(app, twilio, status):
    anonymous = Browser(app)
    assert_page(anonymous.get(f"/escritorio/_falla/{status}"), status, DESK, "login")
    agent = Agent(app, twilio)
    assert agent.log_in().status_code == 302
    assert_page(agent.get(f"/escritorio/_falla/{status}"), status, DESK, "home")


@pytest.mark.parametrize("status", sorted(HEADINGS))
def test_json_endpoints_get_json_errors(app, twilio, status):
    agent = Agent(app, twilio)
    agent.log_in()
    response = agent.get(f"/escritorio/_falla/{status}.json")
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.get_json() == {"error": ENGLISH[status].lower().replace(" ", "_")}


def test_real_refusals_on_both_channels(app, twilio):
    anonymous = Browser(app)
    assert_page(anonymous.get("/conexion/no-existe"), 404, CONEXION, "login")
    anonymous.get("/conexion/entrar")
    assert_page(anonymous.post("/conexion/entrar", TOO_BIG), 413, CONEXION, "login")
    response = anonymous.get("/conexion/salir")  # the log-out is a POST only
    assert_page(response, 405, CONEXION, "login")
    assert set(response.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    agent = Agent(app, twilio)
    agent.log_in()
    assert_page(agent.get("/escritorio/auditoria"), 403, DESK, "home")  # not a supervisor
    assert_page(agent.get("/escritorio/llamadas/999"), 404, DESK, "home")
    assert_page(agent.post("/escritorio/tomar", csrf=False), 400, DESK, "home")
    assert_page(agent.post("/escritorio/entrar", TOO_BIG), 413, DESK, "home")
    missing = agent.get("/escritorio/llamadas/999.json")
    assert missing.status_code == 404 and missing.get_json() == {"error": "not_found"}
    limited = agent.client.post("/escritorio/llamadas.json", base_url="https://localhost")
    assert limited.status_code == 405 and limited.get_json() == {"error": "method_not_allowed"}


def test_outside_the_channels_the_page_leads_to_the_front_page(app):
    response = Browser(app).get("/no-existe")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and f"<h1>{HEADINGS[404]}</h1>" in page
    assert '<span class="brand">Línea Directa</span>' in page
    assert '<a href="/">Ir a la página principal de Línea Directa</a>' in page


def test_the_ivr_webhooks_keep_their_own_error_answers(app):
    client = app.test_client()
    for response in (client.get("/ivr/voice"), client.post("/ivr/voice"),
                     client.post("/ivr/no-existe")):
        page = response.get_data(as_text=True)
        assert response.status_code in (403, 404, 405), response.status_code
        assert 'lang="es-MX"' not in page and "Línea Directa" not in page
        for heading in HEADINGS.values():
            assert heading not in page
