"""Say mode and play mode are heard the same: one scripted call placed against
each mode gives the same transcript, word for word (play mode's heard through
the manifest and the read-back URLs)."""
import dataclasses
import shutil

import pytest

from qa.simulator import FlaskTransport, SimulatedCall
from ivr.state import MemoryCallStore
from tests.e2e.conftest import listener
from tests.e2e.test_call_flow import login_with_access_key

# After logging in: the balances, then a payment with every kind of value read
# back — digits, amounts, a plain number, names from the database, a rejected
# reference with its reason, an amount out of range — up to the summary and a
# correction, then goodbye without paying (a folio is random per call).
SCRIPT = ["1", "1", "1", "2", "5", "2", "5671", "1", "5005#", "1", "12345678#", "1",
          "1126#", "2", "112#", "1126#", "1", "0#", "99999999#", "349*5#", "1", "2", "4",
          "1*01#", "1", "0"]


@pytest.fixture(params=["sqlite"])
def database_url(request, sqlite_url):
    return sqlite_url


def place_scripted_call(settings, mode: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The call's transcript, and the URLs it played."""
    from banking_core import loader
    from linea_directa.app import create_app

    app = create_app(dataclasses.replace(settings, ivr_prompt_mode=mode),
                     call_store=MemoryCallStore())
    try:
        loader.seed_demo(app.extensions["bank"])
        played, hear = [], listener(app) if mode == "play" else None

        def play(url):
            played.append(url)
            return hear(url)

        call = SimulatedCall(FlaskTransport(app.test_client()),
                             base_url=settings.public_base_url,
                             auth_token=settings.twilio_auth_token,
                             play=play if hear else None)
        call.start()
        login_with_access_key(call)
        for keys in SCRIPT:
            call.press(keys)
        return call.transcript, played
    finally:
        app.extensions["bank"].engine.dispose()


def test_both_prompt_modes_are_heard_word_for_word_the_same(settings, tmp_path):
    copy = tmp_path / "play.db"
    shutil.copy(settings.database_url.removeprefix("sqlite:///"), copy)
    said, _ = place_scripted_call(settings, "say")
    heard_played, urls = place_scripted_call(
        dataclasses.replace(settings, database_url=f"sqlite:///{copy}"), "play")
    heard = "\n".join(text for who, text in said if who == "ivr")
    for expected in ("veinticinco mil pesos", "periodo, mes y año: ",
                     "trescientos cuarenta y nueve pesos con cincuenta centavos",
                     "de un peso a cincuenta mil pesos", "Le transferimos con un ejecutivo"):
        assert expected in heard  # the script reached every read-back it means to
    assert heard_played == said
    # Turns naming the customer or the biller are said whole, one voice per turn
    # (on main their recorded words were played around a <Say>: over 100 URLs).
    assert len(urls) > 40 and any("/amount/34950.wav" in url for url in urls)


def test_play_mode_speaks_each_turn_in_one_voice(settings):
    """A turn with a name (the customer's, the biller's) is said whole by
    <Say>; any other turn is our recordings only: never Twilio's voice in the
    middle of a sentence of ours."""
    from banking_core import loader
    from linea_directa.app import create_app

    app = create_app(dataclasses.replace(settings, ivr_prompt_mode="play"),
                     call_store=MemoryCallStore())
    try:
        loader.seed_demo(app.extensions["bank"])
        call = SimulatedCall(FlaskTransport(app.test_client()),
                             base_url=settings.public_base_url,
                             auth_token=settings.twilio_auth_token)  # plays stay URLs
        turns = [call.start(), call.press("1"), call.press("10000001"), login := call.press("1357")]
        turns += [call.press(keys) for keys in SCRIPT]
    finally:
        app.extensions["bank"].engine.dispose()
    mixed = [(heard.says, heard.plays) for heard in turns if heard.says and heard.plays]
    assert mixed == []
    # The welcome names the customer: the whole turn, its menu too, is said.
    assert login.plays == [] and login.says[0] == "Le damos la bienvenida, Ana."
    assert "Para sus cuentas de cheques" in login.says[1]
    played = [heard for heard in turns if heard.plays]
    assert len(played) > len(turns) // 2  # names are the exception
    assert any("Agua potable" in " ".join(heard.says) for heard in turns)
