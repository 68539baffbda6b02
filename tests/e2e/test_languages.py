"""The Spanish greeting offers English in English; 9 at the first menu puts
the rest of the call in English — read-backs, transfers, the agents' hours."""
import datetime as dt
import xml.etree.ElementTree as ET

import pytest


@pytest.fixture(params=["sqlite"])
def database_url(request, sqlite_url):
    return sqlite_url


def greeting_twiml(call) -> ET.Element:
    # Twilio delivering the first request again gets the very same answer.
    status, body = call.post(f"{call.base_url}/ivr/voice", call._params(status="ringing"))
    assert status == 200
    return ET.fromstring(body).find("Gather")


def test_the_offer_of_english_is_said_in_english(dial, prompt_mode):
    call = dial()
    assert "Línea Directa, a sus órdenes. For English, press 9. Si tiene clave de acceso" \
        in call.last.text
    first, second, *_ = list(greeting_twiml(call))
    if prompt_mode == "say":
        assert (first.tag, first.text, first.get("language")) == \
            ("Say", "Línea Directa, a sus órdenes.", "es-MX")
        assert (second.tag, second.text, second.get("language"), second.get("voice")) == \
            ("Say", "For English, press 9.", "en-US", "Polly.Joanna-Neural")
    else:
        assert first.tag == second.tag == "Play"
        assert "/audio/es-MX/" in first.text and "/audio/en-US/" in second.text


def test_nine_puts_the_whole_call_in_english(dial, prompt_mode):
    call = dial()
    action = call.last.gather["action"]
    heard = call.press("9")
    assert heard.text.startswith("Welcome to Línea Directa. Para español, marque 9.")
    if prompt_mode == "say":  # the same delivery again: the same answer, to read its TwiML
        status, body = call.post(action, call._params(Digits="9"))
        says = [(say.get("language"), say.text) for say in ET.fromstring(body).iter("Say")]
        assert says[:2] == [("en-US", "Welcome to Línea Directa."),
                            ("es-MX", "Para español, marque 9.")]  # Spanish offered in Spanish
        assert {language for language, _ in says[2:]} == {"en-US"}
    call.press("1")
    call.press("10000001")
    heard = call.press("1357")
    assert "Welcome, Ana." in heard.text and "For checking, savings or payroll" in heard.text
    call.press("1")
    heard = call.press("1")
    assert "Your checking account ending in five six seven one has a balance of " \
           "twenty-five thousand pesos." in heard.text
    assert "cheques" not in heard.text and "pesos con" not in heard.text


def test_a_caller_in_english_is_told_the_agents_hours_in_english(dial, bank, monkeypatch,
                                                                  ivr_app):
    from config.hours import parse_hours

    ivr_app.extensions["ivr"].agent_hours = parse_hours("mon-fri 08:00-20:00")
    saturday_noon = dt.datetime(2026, 11, 21, 18, 0, tzinfo=dt.timezone.utc)  # 12:00 CDMX
    monkeypatch.setattr(bank, "clock", lambda: saturday_noon)
    call = dial()
    call.press("9")
    heard = call.press("0")
    # Outside the hours nothing promises an agent before saying none is there.
    assert "We are transferring you" not in heard.text
    assert "No agents are available right now. Our hours are Monday through Friday from " \
           "eight o'clock in the morning to eight o'clock in the evening." in heard.text
    assert "To have an agent call you back at this number, press 1." in heard.text
    heard = call.press("2")
    assert heard.text == "Thank you for calling Línea Directa. Goodbye."
