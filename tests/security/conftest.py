"""The security tests attack the whole app on the demo bank as an outsider
would: as a browser (the web page, the desk) and as a caller through the
simulated Twilio. They reuse the desk's fixtures (app, Twilio, agents), on
SQLite unless a module asks for PostgreSQL; `desk_bank` is that app's bank
(`bank` stays the bare bank of tests/conftest.py)."""
import pytest

from tests.desk.conftest import (  # noqa: F401 - fixtures
    agent, database_url, desk_app, desk_env, desk_settings, dial, supervisor, twilio,
)
from tests.web.conftest import Browser


@pytest.fixture
def desk_bank(desk_app):
    return desk_app.extensions["bank"]


@pytest.fixture
def customer(desk_app):
    """Ana, logged in to Conexión Personal."""
    browser = Browser(desk_app)
    assert browser.log_in().status_code == 302
    browser.get("/conexion/inicio")  # the page's forms carry the new session's CSRF token
    return browser
