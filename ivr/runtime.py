"""What every IVR route needs from the request it answers: the IVR's runtime
(built once by `webhooks.init_app`), the CallSid, the caller's number, public
URLs as Twilio signs them, and the speaker that says prompts (ivr/speaker.py)."""
from __future__ import annotations

import dataclasses
import re

import phonenumbers
from flask import abort, current_app, request
from config.hours import Hours
from ivr.keyed_hash import KeyedHash
from ivr.speaker import Speaker
from ivr.twilio_signature import SignatureChecker

CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
# What Twilio puts in From when the caller withholds the number: words, or the
# words spelled on a keypad. None of these is a number anyone can call back.
# (Twilio's TwiML docs: From "may contain anonymous, unknown, or other
# descriptions"; the keypad forms are listed in Twilio's support article
# "Why am I getting calls from these strange numbers?".)
WITHHELD_CALLER_IDS = frozenset({
    "+266696687",    # ANONYMOUS
    "+7378742833",   # RESTRICTED
    "+2562533",      # BLOCKED
    "+8656696",      # UNKNOWN
    "+86282452253",  # UNAVAILABLE
    "+464",          # (no caller ID)
})


@dataclasses.dataclass
class IvrRuntime:
    interpreter: object
    store: object
    bank: object
    signatures: SignatureChecker  # Twilio's, under TWILIO_AUTH_TOKEN
    settings: object
    speaker: Speaker  # says every prompt, in the configured prompt mode
    call_control: object  # telephony.call_control: Twilio's REST API, or none
    turn_key: KeyedHash  # keys the duplicate-turn marks (webhooks.request_key)
    agent_hours: Hours | None = None  # AGENT_HOURS, parsed once

    @property
    def player(self):
        """Play mode's recordings (None in say mode): QA hears a <Play> as its text."""
        return self.speaker.player

    @property
    def language(self) -> str:
        """The language a call starts in (IVR_LANGUAGE); each call's own is in
        its state (ivr/languages.py)."""
        return self.speaker.default


def runtime() -> IvrRuntime:
    return current_app.extensions["ivr"]


def speaker() -> Speaker:
    return runtime().speaker


def url(path: str) -> str:
    """An absolute URL of ours, as Twilio must request (and sign) it."""
    return runtime().settings.public_base_url + path


def public_url(req=None, ivr: IvrRuntime | None = None) -> str:
    """The URL Twilio signed: our configured public base, never the Host header
    or X-Forwarded-* (a proxy in front rewrites those). `req`, `ivr`: the
    request and the runtime, when the caller holds them already."""
    req = req or request
    query = req.query_string.decode()
    return (ivr or runtime()).settings.public_base_url + req.path + \
        (f"?{query}" if query else "")


def call_sid(req=None) -> str:
    sid = (req or request).form.get("CallSid", "")
    if not CALL_SID.match(sid):
        abort(400, "CallSid missing or malformed")
    return sid


def caller() -> str | None:
    """The caller's number in E.164, or None when it cannot be called back:
    withheld (Twilio's placeholders), a softphone (client:…), or not a valid
    number at all."""
    return callable_number(request.form.get("From", ""))


def callable_number(raw: str) -> str | None:
    raw = raw.strip()
    if not raw or raw in WITHHELD_CALLER_IDS or not raw.lstrip("+").isascii():
        return None
    try:
        number = phonenumbers.parse(raw, "MX")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None if formatted in WITHHELD_CALLER_IDS else formatted
