import pytest

from banking_core import loader
from ivr.simulator import FlaskTransport, SimulatedCall
from ivr.state import MemoryCallStore
from tests.web.conftest import Browser, web_settings


class SimulatedCallControl:
    """The desk's call control, carried out as Twilio would: the live simulated
    call is moved to the URL and follows its TwiML."""

    def __init__(self):
        self.calls: dict[str, SimulatedCall] = {}
        self.redirects: list[tuple[str, str]] = []

    def redirect(self, call_sid: str, url: str) -> None:
        self.redirects.append((call_sid, url))
        self.calls[call_sid].redirected(url)


@pytest.fixture(params=["sqlite"])
def database_url(request, sqlite_url):
    return sqlite_url


@pytest.fixture
def desk_env():
    return {}


@pytest.fixture
def call_control():
    return SimulatedCallControl()


@pytest.fixture
def desk_app(tmp_path, database_url, desk_env, call_control):
    from ivr.app import create_app

    app = create_app(web_settings(tmp_path, database_url, **desk_env),
                     call_store=MemoryCallStore(), call_control=call_control)
    loader.seed_demo(app.extensions["bank"])
    yield app
    app.extensions["bank"].engine.dispose()


@pytest.fixture
def bank(desk_app):
    return desk_app.extensions["bank"]


@pytest.fixture
def dial(desk_app, call_control):
    settings = desk_app.extensions["settings"]

    def place_call(**options) -> SimulatedCall:
        call = SimulatedCall(FlaskTransport(desk_app.test_client()),
                             base_url=settings.public_base_url,
                             auth_token=settings.twilio_auth_token, **options)
        call_control.calls[call.call_sid] = call
        call.start()
        return call

    return place_call


class Agent(Browser):
    def log_in(self, username="agente1", password="agente-demo-1"):
        self.get("/escritorio/entrar")
        return self.post("/escritorio/entrar", {"usuario": username, "contrasena": password})

    def take_next(self):
        self.get("/escritorio/")
        return self.post("/escritorio/tomar")


@pytest.fixture
def agent(desk_app):
    agent = Agent(desk_app)
    assert agent.log_in().status_code == 302
    return agent


@pytest.fixture
def supervisor(desk_app):
    supervisor = Agent(desk_app)
    assert supervisor.log_in("supervisor", "supervisor-demo-1").status_code == 302
    return supervisor
