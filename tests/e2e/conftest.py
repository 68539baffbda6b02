import dataclasses
from urllib.parse import urlsplit

import pytest

from ivr.audio.wavfile import read_wav
from qa.simulator import CallError, FlaskTransport, SimulatedCall
from ivr.state import MemoryCallStore


@pytest.fixture(params=["say", "play"])
def prompt_mode(request):
    """Every call below runs twice: Twilio's <Say>, and our recordings
    (IVR_PROMPT_MODE=play) heard back through the committed audio's manifest."""
    return request.param


@pytest.fixture
def ivr_app(settings, prompt_mode):
    """The whole app on the demo bank, as `make run` serves it."""
    from banking_core import loader
    from linea_directa.app import create_app

    settings = dataclasses.replace(settings, ivr_prompt_mode=prompt_mode)
    app = create_app(settings, call_store=MemoryCallStore())
    loader.seed_demo(app.extensions["bank"])
    yield app
    app.extensions["bank"].engine.dispose()


def listener(app):
    """What a <Play> URL says: fetched as Twilio fetches it (GET, no signature),
    checked to be telephony audio, and looked up in the manifest."""
    client = app.test_client()
    player = app.extensions["ivr"].player  # every language's recordings

    def hear(url: str) -> str:
        parts = urlsplit(url)
        response = client.get(parts.path + (f"?{parts.query}" if parts.query else ""))
        if response.status_code != 200 or response.mimetype != "audio/wav":
            raise CallError(f"<Play> {url}: {response.status_code} {response.mimetype}")
        if not read_wav(response.get_data()).is_telephony:
            raise CallError(f"<Play> {url}: not 8 kHz mono mu-law")
        return player.text_for(url)

    return hear


@pytest.fixture
def dial(ivr_app):
    settings = ivr_app.extensions["settings"]
    play = listener(ivr_app) if settings.ivr_prompt_mode == "play" else None

    def place_call(**options) -> SimulatedCall:
        call = SimulatedCall(FlaskTransport(ivr_app.test_client()),
                             base_url=settings.public_base_url,
                             auth_token=settings.twilio_auth_token, play=play, **options)
        call.start()
        return call

    return place_call


@pytest.fixture
def bank(ivr_app):
    return ivr_app.extensions["bank"]
