"""ivr/twilio_signature.py: the turn's fast check computes exactly what
twilio-python's RequestValidator computes, and accepts nothing it refuses."""
import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from ivr.twilio_signature import SignatureChecker, string_to_sign

TOKEN = "12345678901234567890123456789012"
URL = "https://linea.example.mx/ivr/step?t=4&ev=noinput"

FORMS = [
    {},
    {"CallSid": "CA" + "0" * 32, "Digits": "1357"},
    # A turn as Twilio posts it: twenty-odd parameters, some empty.
    {"AccountSid": "AC" + "1" * 32, "ApiVersion": "2010-04-01", "CallSid": "CA" + "a" * 32,
     "CallStatus": "in-progress", "Called": "+523312345678", "CalledCity": "",
     "CalledCountry": "MX", "CalledState": "JAL", "CalledZip": "", "Caller": "+523336693552",
     "CallerCity": "GUADALAJARA", "CallerCountry": "MX", "CallerState": "JAL", "CallerZip": "",
     "Digits": "*", "Direction": "inbound", "FinishedOnKey": "", "From": "+523336693552",
     "FromCity": "GUADALAJARA", "FromCountry": "MX", "FromState": "JAL", "FromZip": "",
     "To": "+523312345678", "ToCity": "", "ToCountry": "MX", "ToState": "JAL", "ToZip": "",
     "msg": "Gather End"},
    {"Body": "Se\u00f1or N\u00fa\u00f1ez", "b": "2", "a": "1", "A": "0", "a1": "x"},
]


@pytest.mark.parametrize("form", FORMS)
def test_the_signature_is_twilios(form):
    checker, validator = SignatureChecker(TOKEN), RequestValidator(TOKEN)
    for params in (form, MultiDict(form)):
        assert checker.compute(URL, params) == validator.compute_signature(URL, params)
        assert checker.signed(URL, params, validator.compute_signature(URL, params))


def test_repeated_names_and_values_as_twilio_takes_them():
    # Twilio's validator: each name once, its distinct values sorted.
    form = MultiDict([("b", "2"), ("a", "z"), ("a", "y"), ("a", "z"), ("c", "")])
    assert string_to_sign("u", form) == "uayazb2c"
    assert SignatureChecker(TOKEN).compute("u", form) == \
        RequestValidator(TOKEN).compute_signature("u", form)


def test_a_wrong_signature_is_refused_by_both_checks():
    checker = SignatureChecker(TOKEN)
    form = MultiDict(FORMS[2])
    good = checker.compute(URL, form)
    assert not checker.signed(URL, form, good[:-2] + "AA")
    assert not checker.signed(URL, MultiDict({**FORMS[2], "Digits": "1"}), good)
    assert not checker.signed(URL.replace("t=4", "t=5"), form, good)
    assert not SignatureChecker("another-token").signed(URL, form, good)
    assert not checker.signed(URL, form, "")


def test_the_url_with_its_port_still_passes_through_twilios_full_check():
    # Twilio may sign https://host:443/… for https://host/…: only the
    # validator's slow path knows that; the fast one misses and hands over.
    checker, validator = SignatureChecker(TOKEN), RequestValidator(TOKEN)
    form = MultiDict(FORMS[1])
    signed_with_port = validator.compute_signature(
        "https://linea.example.mx:443/ivr/step?t=4&ev=noinput", form)
    assert checker.compute(URL, form) != signed_with_port
    assert checker.signed(URL, form, signed_with_port)
