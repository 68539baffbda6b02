import re

import pytest

from banking_core import loader
from config import Settings
from tests.conftest import TEST_PEPPER

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
OPERATION = re.compile(r'name="operacion" value="([0-9a-f]{32})"')


@pytest.fixture(params=["sqlite"])
def database_url(request, sqlite_url):
    return sqlite_url


def web_settings(tmp_path, database_url, **env):
    return Settings.from_env({
        "IVR_ENV": "test", "IVR_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url, "NIP_PEPPER": TEST_PEPPER,
        "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "64", **env})


@pytest.fixture
def web_env():
    """Extra settings a test module wants (e.g. a small daily limit)."""
    return {}


@pytest.fixture
def web_app(tmp_path, database_url, web_env):
    from linea_directa.app import create_app

    app = create_app(web_settings(tmp_path, database_url, **web_env))
    loader.seed_demo(app.extensions["bank"])
    yield app
    app.extensions["bank"].engine.dispose()


@pytest.fixture
def bank(web_app):
    return web_app.extensions["bank"]


class Browser:
    """A customer at the page, over the Flask test client: HTTPS (the session
    cookie is Secure outside development) and the Referer a browser sends, which
    Flask-WTF's CSRF check wants on HTTPS."""

    def __init__(self, app):
        self.client = app.test_client()
        self.client.environ_base["HTTP_REFERER"] = "https://localhost/conexion/"
        self.last = None
        self.csrf = ""

    def _track(self, response):
        self.last = response
        if response.mimetype != "text/html":
            return response
        found = CSRF.search(response.get_data(as_text=True))
        if found:
            self.csrf = found.group(1)
        return response

    def get(self, path, **kw):
        return self._track(self.client.get(path, base_url="https://localhost", **kw))

    def post(self, path, data=None, *, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf)
        return self._track(self.client.post(path, data=data, base_url="https://localhost",
                                            **kw))

    @property
    def text(self) -> str:
        return self.last.get_data(as_text=True)

    def errors(self) -> list[str]:
        return re.findall(r'<p class="error"[^>]*>([^<]+)</p>', self.text)

    def log_in(self, access_key="10000001", password="1357"):
        self.get("/conexion/entrar")
        return self.post("/conexion/entrar", {"clave": access_key, "contrasena": password})

    def payment_form(self, service_key="1411"):
        self.get(f"/conexion/servicios/{service_key}/pagar")
        return OPERATION.search(self.text).group(1)

    def account_id(self, last4):
        """The id of one of the customer's accounts, as the form offers it."""
        match = re.search(rf'<option value="(\d+)"[^>]*>\s*\w+ \*+{last4} ', self.text)
        return match.group(1) if match else None


@pytest.fixture
def browser(web_app):
    return Browser(web_app)


@pytest.fixture
def logged_in(browser):
    response = browser.log_in()
    assert response.status_code == 302
    return browser
