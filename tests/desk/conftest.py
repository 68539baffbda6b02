"""The desk and the hand-off, with Twilio simulated after its documentation:
callers and agents are legs of one simulated Twilio account, the app steers
them through its real REST adapter (telephony/call_control.py) whose requests
land on the simulator's REST fake, and every test ends by checking that Twilio
would have logged no application error."""
from pathlib import Path

import pytest

from sqlalchemy import select

from banking_core import loader
from banking_core.models import Agent as AgentRow
from qa.simulator import FlaskTransport, SimulatedCall
from ivr.state import MemoryCallStore
from qa.twilio_sim import ACCOUNT_SID, Twilio
from telephony import call_control
from tests.web.conftest import Browser, web_settings

TWIML_APP_SID = "AP" + "1" * 32
# The desk's Twilio settings: the account the simulated Twilio is, and a
# softphone set-up (API key, secret, TwiML App) for it.
TWILIO_ENV = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_API_KEY": "SK" + "2a" * 16,
              "TWILIO_API_SECRET": "ApiKeySecret0123456789abcdefGHIJ",
              "TWILIO_TWIML_APP_SID": TWIML_APP_SID}
QA_BANK = Path(__file__).resolve().parents[1] / "transcripts" / "bank" / "qa_bank.yaml"


@pytest.fixture(params=["sqlite"])
def database_url(request, sqlite_url):
    return sqlite_url


@pytest.fixture
def desk_env():
    return {}


@pytest.fixture
def desk_settings(tmp_path, database_url, desk_env):
    return web_settings(tmp_path, database_url, **{**TWILIO_ENV, **desk_env})


@pytest.fixture
def twilio(desk_settings):
    """The simulated Twilio account; its transport is the app, once built."""
    return Twilio(None, base_url=desk_settings.public_base_url,
                  auth_token=desk_settings.twilio_auth_token,
                  account_sid=desk_settings.twilio_account_sid or ACCOUNT_SID,
                  twiml_app_sid=desk_settings.twilio_twiml_app_sid or TWIML_APP_SID)


@pytest.fixture
def desk_app(desk_settings, twilio):
    from linea_directa.app import create_app

    calls = call_control.from_settings(desk_settings, http_client=twilio.rest)
    app = create_app(desk_settings, call_store=MemoryCallStore(), call_control=calls)
    twilio.transport = FlaskTransport(app.test_client())
    loader.seed_demo(app.extensions["bank"])
    loader.load_file(app.extensions["bank"], QA_BANK)
    yield app
    app.extensions["bank"].engine.dispose()
    assert twilio.errors == [], "Twilio would have logged application errors"


@pytest.fixture
def bank(desk_app):
    return desk_app.extensions["bank"]


@pytest.fixture
def dial(desk_app, twilio):
    settings = desk_app.extensions["settings"]

    def place_call(**options) -> SimulatedCall:
        call = SimulatedCall(twilio.transport, base_url=settings.public_base_url,
                             auth_token=settings.twilio_auth_token, twilio=twilio, **options)
        call.start()
        return call

    return place_call


class Agent(Browser):
    """An agent at the desk (over the Flask test client) with the desk's
    softphone (a simulated Voice SDK Device, registered as agente_<id>).
    Whatever the desk asks of Twilio's REST API happens after each request,
    as it would."""

    def __init__(self, app, twilio, username="agente1", password="agente-demo-1"):
        super().__init__(app)
        self.twilio, self.username, self.password = twilio, username, password
        agent = app.extensions["bank"]
        self.id = next(a.id for a in _agents(agent) if a.username == username)
        self.phone = twilio.softphone(f"agente_{self.id}")

    def get(self, path, **kw):
        response = super().get(path, **kw)
        self.twilio.settle()
        return response

    def post(self, path, data=None, **kw):
        response = super().post(path, data, **kw)
        self.twilio.settle()
        return response

    def log_in(self, username=None, password=None):
        self.get("/escritorio/entrar")
        return self.post("/escritorio/entrar", {"usuario": username or self.username,
                                                "contrasena": password or self.password})

    def take_next(self):
        self.get("/escritorio/")
        return self.post("/escritorio/tomar")

    def take(self) -> int:
        """Take the next call; its hand-off id."""
        response = self.take_next()
        assert response.location.startswith("/escritorio/llamadas/"), response.location
        return int(response.location.rsplit("/", 1)[1])

    def connect(self, handoff_id: int | None = None):
        """The desk's softphone calls in for the call this agent holds."""
        params = {"handoff": str(handoff_id)} if handoff_id is not None else {}
        return self.phone.connect(**params)


def _agents(bank):
    with bank.unit_of_work() as uow:
        return uow.session.scalars(select(AgentRow)).all()


@pytest.fixture
def agent(desk_app, twilio):
    agent = Agent(desk_app, twilio)
    assert agent.log_in().status_code == 302
    return agent


@pytest.fixture
def supervisor(desk_app, twilio):
    supervisor = Agent(desk_app, twilio, "supervisor", "supervisor-demo-1")
    assert supervisor.log_in().status_code == 302
    return supervisor
