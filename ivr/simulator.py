"""A caller and a Twilio, simulated: places a call against the webhooks exactly
as Twilio does — signed form posts with Twilio's parameters, a fresh CallSid,
following <Gather> (numDigits, finishOnKey, the no-input fall-through to the
next verb), <Redirect>, <Say>, <Enqueue>, <Hangup> — and sends the status
callback when the call ends. Given `play` (a function from a <Play> URL to the
text it says), it hears <Play> too, so one transcript serves both prompt modes.

It talks to a Flask test client in-process; a transport with the same
`post(url, data, headers)` shape can carry it over HTTP.
"""
from __future__ import annotations

import dataclasses
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32


class CallError(AssertionError):
    """The IVR answered something Twilio could not follow."""


@dataclasses.dataclass
class Heard:
    says: list[str]
    gather: dict | None = None  # attributes of the pending <Gather>
    redirect: str | None = None
    transferred: str | None = None  # queue name
    hung_up: bool = False

    @property
    def text(self) -> str:
        # Played pieces of one sentence may start with its punctuation
        # (", referencia"): no space before it.
        text = ""
        for said in self.says:
            text += said if not text or said[:1] in ",.;:" else " " + said
        return text


class FlaskTransport:
    def __init__(self, client):
        self.client = client

    def post(self, url: str, data: dict, headers: dict) -> tuple[int, str]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self.client.post(path, data=data, headers=headers)
        return response.status_code, response.get_data(as_text=True)


class SimulatedCall:
    def __init__(self, transport, *, base_url: str, auth_token: str,
                 caller: str = "+523336693552", called: str = "+525557213390", play=None):
        self.transport, self.base_url = transport, base_url.rstrip("/")
        self.play = play
        self.validator = RequestValidator(auth_token)
        self.call_sid = "CA" + uuid.uuid4().hex
        self.caller, self.called = caller, called
        self.last: Heard | None = None
        self.transcript: list[tuple[str, str]] = []  # ("ivr"|"caller", text)
        self.ended = False

    # -- what Twilio sends ------------------------------------------------------
    def _params(self, status: str = "in-progress", **extra) -> dict:
        params = dict(AccountSid=ACCOUNT_SID, CallSid=self.call_sid, From=self.caller,
                      To=self.called, Caller=self.caller, Called=self.called,
                      CallStatus=status, Direction="inbound", ApiVersion="2010-04-01")
        params.update(extra)
        return params

    def post(self, url: str, params: dict, *, signature: str | None = None) -> tuple[int, str]:
        headers = {"X-Twilio-Signature":
                   signature if signature is not None
                   else self.validator.compute_signature(url, params)}
        return self.transport.post(url, params, headers)

    def hear(self, body: str) -> Heard:
        """What a caller hears from a TwiML answer, in either prompt mode."""
        return parse_twiml(body, play=self.play)

    def _follow(self, url: str, params: dict) -> Heard:
        status, body = self.post(url, params)
        if status != 200:
            raise CallError(f"{url} answered {status}: {body[:200]}")
        heard = self.hear(body)
        self.last = heard
        if heard.says:
            self.transcript.append(("ivr", heard.text))
        if heard.redirect and not heard.gather:
            return self._follow(heard.redirect, self._params())
        if heard.transferred or heard.hung_up:
            self.ended = True
        return heard

    # -- what the caller does ---------------------------------------------------
    def start(self) -> Heard:
        return self._follow(f"{self.base_url}/ivr/voice", self._params(status="ringing"))

    def press(self, keys: str) -> Heard:
        """Key `keys`; a trailing # ends a variable-length entry, as on a phone."""
        gather = self._pending()
        digits = keys
        finish = gather.get("finishOnKey", "#")
        if finish and digits.endswith(finish):
            digits = digits[: -len(finish)]
        elif gather.get("numDigits"):
            # Fewer keys than numDigits: Twilio submits them when the timeout
            # ends the entry. More: it submits the first numDigits at once.
            digits = digits[: int(gather["numDigits"])]
        self.transcript.append(("caller", keys))
        return self._follow(gather["action"], self._params(Digits=digits))

    def silence(self) -> Heard:
        """Stay silent: the gather times out and Twilio falls through to the
        <Redirect> after it (no actionOnEmptyResult)."""
        self._pending()
        if not self.last.redirect:
            raise CallError("no verb after the <Gather>: Twilio would hang up")
        self.transcript.append(("caller", "(silencio)"))
        return self._follow(self.last.redirect, self._params())

    def hang_up(self, status: str = "completed") -> int:
        self.ended = True
        code, _ = self.post(f"{self.base_url}/ivr/status",
                            self._params(status=status, CallDuration="42"))
        return code

    def _pending(self) -> dict:
        if self.ended or self.last is None or self.last.gather is None:
            raise CallError("the IVR is not waiting for keys")
        return self.last.gather


def parse_twiml(body: str, *, play=None) -> Heard:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise CallError(f"not TwiML: {exc}: {body[:200]}") from None
    if root.tag != "Response":
        raise CallError(f"TwiML must be a <Response>, got <{root.tag}>")
    heard = Heard(says=[])
    for verb in root:
        if verb.tag == "Say":
            heard.says.append(verb.text or "")
        elif verb.tag == "Gather":
            if heard.gather is not None:
                raise CallError("two <Gather> in one response")
            heard.gather = dict(verb.attrib)
            for child in verb:
                if child.tag == "Say":
                    heard.says.append(child.text or "")
                elif child.tag == "Play" and play is not None:
                    heard.says.append(play(child.text or ""))
        elif verb.tag == "Redirect":
            heard.redirect = verb.text
            break  # Twilio leaves the document at a Redirect
        elif verb.tag == "Enqueue":
            heard.transferred = verb.text
            break
        elif verb.tag == "Hangup":
            heard.hung_up = True
            break
        elif verb.tag == "Play" and play is not None:
            heard.says.append(play(verb.text or ""))
        elif verb.tag in {"Pause", "Play"}:
            continue
        else:
            raise CallError(f"unexpected verb <{verb.tag}>")
    return heard
