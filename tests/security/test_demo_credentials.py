"""Issue 12, finding: the front page and `ivr serve`'s banner printed the demo
customer's and agent's passwords in every environment, whatever bank was
loaded. They are shown only in development, and only while the bank holds
the demo bank's log-ins as banking_core/demo_bank.yaml writes them."""
import pytest
from sqlalchemy import update

from banking_core import loader
from banking_core.models import Agent
from linea_directa.app import create_app
from linea_directa.cli import cli as ivr_cli
from tests.desk.conftest import QA_BANK
from tests.web.conftest import web_settings

SECRETS = ("10000001", "1357", "agente-demo-1")
PRODUCTION = {"IVR_ENV": "production", "SECRET_KEY": "s" * 40, "NIP_PEPPER": "p" * 40,
              "TWILIO_AUTH_TOKEN": "t" * 32, "PUBLIC_BASE_URL": "https://ivr.example.com"}


@pytest.fixture
def make_app(tmp_path, sqlite_url, monkeypatch):
    """An app on a fresh bank in the given environment, and what `/` and
    `ivr serve` show (the server itself is not started)."""
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)  # `ivr serve` sets it for gunicorn
    monkeypatch.setattr("linea_directa.cli.supervise", lambda *args, **kw: 0)
    apps = []

    def build(bank_files=(), **env):
        app = create_app(web_settings(tmp_path, sqlite_url, **env))
        apps.append(app)
        for path in bank_files:
            loader.load_file(app.extensions["bank"], path)
        page = app.test_client().get("/", base_url="https://localhost")
        assert page.status_code == 200
        banner = app.test_cli_runner().invoke(ivr_cli, args=["serve", "--port", "5099"])
        assert banner.exit_code == 0, banner.output
        assert "Conexión Personal" in banner.output and "/escritorio/" in banner.output
        return app, page.get_data(as_text=True), banner.output

    yield build
    for app in apps:
        app.extensions["bank"].engine.dispose()


def shown(text):
    return [secret for secret in SECRETS if secret in text]


def test_development_with_the_demo_bank_shows_the_demo_log_ins(make_app):
    _, page, banner = make_app([loader.DEMO_BANK], IVR_ENV="development")
    for text in (page, banner):
        assert "clave de acceso 10000001, contraseña 1357" in text
        assert "agente1 / agente-demo-1" in text


@pytest.mark.parametrize("env", [{"IVR_ENV": "test"}, PRODUCTION], ids=["test", "production"])
def test_outside_development_the_demo_log_ins_are_never_shown(make_app, env):
    _, page, banner = make_app([loader.DEMO_BANK], **env)
    assert shown(page) == [] and shown(banner) == []
    assert "/conexion/" in page and "/escritorio/" in page  # the rest is still listed


def test_development_without_the_demo_bank_shows_no_log_ins(make_app):
    for bank_files in ((), (QA_BANK,)):  # an empty bank; another bank, with its own agents
        _, page, banner = make_app(bank_files, IVR_ENV="development")
        assert shown(page) == [] and shown(banner) == [], bank_files


def test_a_demo_log_in_that_no_longer_works_is_not_shown(make_app):
    """The demo bank loaded, then the agent's password changed: printing the
    old one would be wrong, printing the new one a leak."""
    app, _, _ = make_app([loader.DEMO_BANK], IVR_ENV="development")
    bank = app.extensions["bank"]
    with bank.unit_of_work() as uow:
        uow.session.execute(update(Agent).where(Agent.username == "agente1")
                            .values(password_hash=bank.hasher.hash_secret("otra-clave-9")))
        uow.commit()
    page = app.test_client().get("/", base_url="https://localhost").get_data(as_text=True)
    assert shown(page) == []
