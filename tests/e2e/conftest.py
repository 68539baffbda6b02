import pytest

from ivr.simulator import FlaskTransport, SimulatedCall
from ivr.state import MemoryCallStore


@pytest.fixture
def ivr_app(settings):
    """The whole app on the demo bank, as `make run` serves it."""
    from banking_core import loader
    from ivr.app import create_app

    app = create_app(settings, call_store=MemoryCallStore())
    loader.seed_demo(app.extensions["bank"])
    yield app
    app.extensions["bank"].engine.dispose()


@pytest.fixture
def dial(ivr_app):
    settings = ivr_app.extensions["settings"]

    def place_call(**options) -> SimulatedCall:
        call = SimulatedCall(FlaskTransport(ivr_app.test_client()),
                             base_url=settings.public_base_url,
                             auth_token=settings.twilio_auth_token, **options)
        call.start()
        return call

    return place_call


@pytest.fixture
def bank(ivr_app):
    return ivr_app.extensions["bank"]
