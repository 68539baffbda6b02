"""A caller and a Twilio, simulated: places a call against the webhooks exactly
as Twilio does — signed form posts with Twilio's parameters, a fresh CallSid,
From/To in E.164, following <Gather> (numDigits, finishOnKey, timeout,
actionOnEmptyResult and the no-input fall-through to the next verb),
<Redirect>, <Say>, <Play>, <Pause>, <Enqueue>/<Dial>, <Hangup> — and sends the
status callback when the call ends.

Two transports carry it: `FlaskTransport` (a Flask test client, in-process) and
`HttpTransport` (any URL: a server started with `make run`, or a deployed
one). The end-to-end tests, `ivr replay`, its load mode and `ivr dial` all
place their calls through this one class.
"""
from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from typing import Callable
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32
MAX_REDIRECTS = 20  # Twilio gives up on a redirect loop; so do we, loudly


class CallError(AssertionError):
    """The IVR answered something Twilio could not follow."""


@dataclasses.dataclass
class Heard:
    """One answer of the IVR, as the caller hears it (redirects followed)."""

    says: list[str]
    gather: dict | None = None  # attributes of the pending <Gather>
    redirect: str | None = None
    transferred: str | None = None  # queue name (or dialled number)
    transfer: dict | None = None    # verb, queue, attributes and <Task> JSON of the hand-off
    hung_up: bool = False
    plays: list[str] = dataclasses.field(default_factory=list)  # <Play> URLs, in order
    pause_seconds: int = 0
    latency: float = 0.0  # seconds from the caller's action to the whole answer

    @property
    def text(self) -> str:
        # Played pieces of one sentence may start with its punctuation
        # (", referencia"): no space before it.
        text = ""
        for said in filter(None, self.says):
            text += said if not text or said[:1] in ",.;:" else " " + said
        return text

    @property
    def ended(self) -> bool:
        return bool(self.transferred is not None or self.transfer or self.hung_up)

    @property
    def dialed(self) -> str | None:
        """What a <Dial> connects to, e.g. "client:agente-1"."""
        if not self.transfer or self.transfer["verb"] != "Dial":
            return None
        return f"{self.transfer.get('target', 'number').lower()}:{self.transfer['queue']}"


class FlaskTransport:
    def __init__(self, client):
        self.client = client

    def post(self, url: str, data: dict, headers: dict) -> tuple[int, str]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self.client.post(path, data=data, headers=headers)
        return response.status_code, response.get_data(as_text=True)


class HttpTransport:
    """Form posts over HTTP with keep-alive: one connection pool per thread
    (a requests.Session is not thread-safe), so a load run's threads each
    reuse their own connections instead of paying a TCP handshake per turn."""

    def __init__(self, timeout: float = 15.0):
        self.timeout = timeout  # Twilio waits 15 s for an answer
        self._local = threading.local()

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = self._local.session = requests.Session()
        return session

    def post(self, url: str, data: dict, headers: dict) -> tuple[int, str]:
        import requests

        try:
            response = self._session().post(url, data=data, headers=headers,
                                            timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise CallError(f"{url}: no answer ({type(exc).__name__}: {exc})") from None
        return response.status_code, response.text


class SimulatedCall:
    def __init__(self, transport, *, base_url: str, auth_token: str,
                 caller: str = "+523336693552", called: str = "+525557213390",
                 play_to_text: Callable[[str], str | None] | None = None, play=None):
        self.transport, self.base_url = transport, base_url.rstrip("/")
        self.validator = RequestValidator(auth_token)
        self.call_sid = "CA" + uuid.uuid4().hex
        self.caller, self.called = caller, called
        # A <Play> is heard as audio; this hook turns its URL back into the
        # words it says (a prompt manifest), so expectations can match it.
        # `play`: the same hook under the name the prompt-mode tests use.
        self.play_to_text = play_to_text or play
        self.last: Heard | None = None
        self.transcript: list[tuple[str, str]] = []  # ("ivr"|"caller", text)
        self.latencies: list[float] = []  # seconds, one per answer heard
        self.ended = False
        self.started_at: float | None = None

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
        return parse_twiml(body, play_to_text=self.play_to_text)

    def _follow(self, url: str, params: dict) -> Heard:
        started = time.perf_counter()
        heard = self._fetch(url, params)
        for _ in range(MAX_REDIRECTS):
            if not heard.redirect or heard.gather or heard.ended:
                break
            # A <Redirect> outside a <Gather>'s fall-through: Twilio fetches
            # it at once; what both documents say is one answer to the caller.
            follow = self._fetch(heard.redirect, self._params())
            follow.says[:0], follow.plays[:0] = heard.says, heard.plays
            follow.pause_seconds += heard.pause_seconds
            heard = follow
        else:
            raise CallError(f"more than {MAX_REDIRECTS} redirects without input")
        heard.latency = time.perf_counter() - started
        self.latencies.append(heard.latency)
        self.last = heard
        if heard.text:
            self.transcript.append(("ivr", heard.text))
        if heard.ended:
            self.ended = True
        return heard

    def redirected(self, url: str) -> Heard:
        """Twilio moved this live call to `url` (the REST API's call update)."""
        self.ended = False
        return self._follow(url, self._params())

    def _fetch(self, url: str, params: dict) -> Heard:
        status, body = self.post(url, params)
        if status != 200:
            raise CallError(f"{url} answered {status}: {body[:200]}")
        return parse_twiml(body, play_to_text=self.play_to_text, current_url=url)

    # -- what the caller does ---------------------------------------------------
    def start(self) -> Heard:
        self.started_at = time.monotonic()
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
        if not digits:
            # Only the finish key: Twilio ignores it ("ignored with no
            # digits") and the gather times out as if the caller said nothing.
            return self._no_input()
        return self._follow(gather["action"], self._params(Digits=digits))

    def silence(self) -> Heard:
        """Stay silent: the gather times out. With actionOnEmptyResult Twilio
        posts the action with no Digits; without it, it falls through to the
        next verb (here the <Redirect> after the Gather)."""
        self._pending()
        self.transcript.append(("caller", "(silencio)"))
        return self._no_input()

    def _no_input(self) -> Heard:
        gather = self.last.gather
        if str(gather.get("actionOnEmptyResult", "")).lower() == "true":
            return self._follow(gather["action"], self._params(Digits=""))
        if not self.last.redirect:
            # Nothing after the <Gather>: the document ends and Twilio hangs up.
            self.last = Heard(says=[], hung_up=True)
            self.ended = True
            return self.last
        return self._follow(self.last.redirect, self._params())

    def hang_up(self, status: str = "completed") -> int:
        """The call is over (the caller hung up, or the IVR's last verb ran):
        Twilio posts the status callback."""
        self.ended = True
        code, _ = self.post(f"{self.base_url}/ivr/status",
                            self._params(status=status, CallDuration="42"))
        return code

    def _pending(self) -> dict:
        if self.ended or self.last is None or self.last.gather is None:
            raise CallError("the IVR is not waiting for keys")
        return self.last.gather


def _transfer(verb: ET.Element) -> dict:
    """An <Enqueue> or <Dial>, read the way an agent's desk would see it: the
    queue (the element's text, unless a <Task> child carries the context as
    JSON), the attributes (waitUrl, action…) and the task's attributes."""
    detail = {"verb": verb.tag, "attributes": dict(verb.attrib), "queue": None, "task": None}
    for child in verb:
        if child.tag == "Task":
            raw = (child.text or "").strip()
            try:
                detail["task"] = json.loads(raw) if raw else {}
            except json.JSONDecodeError:
                detail["task"] = {"_raw": raw}  # not JSON: kept as heard
        elif child.tag in {"Queue", "Number", "Client", "Sip", "Conference"}:
            detail["queue"] = (child.text or "").strip()
            detail["target"] = child.tag
    text = (verb.text or "").strip()
    if detail["queue"] is None:
        detail["queue"] = text or verb.attrib.get("name") or verb.attrib.get("workflowSid") or ""
    return detail


def parse_twiml(body: str, *, play_to_text: Callable[[str], str | None] | None = None,
                current_url: str = "") -> Heard:
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise CallError(f"not TwiML: {exc}: {body[:200]}") from None
    if root.tag != "Response":
        raise CallError(f"TwiML must be a <Response>, got <{root.tag}>")
    heard = Heard(says=[])

    def speak(element: ET.Element) -> None:
        if element.tag == "Say":
            heard.says.append((element.text or "").strip())
        elif element.tag == "Play":
            url = (element.text or "").strip()
            heard.plays.append(url)
            text = play_to_text(url) if play_to_text else None
            if text:
                heard.says.append(text)
        elif element.tag == "Pause":
            length = element.attrib.get("length", "1")
            heard.pause_seconds += int(length) if length.isdigit() else 1

    for verb in root:
        if verb.tag in {"Say", "Play", "Pause"}:
            speak(verb)
        elif verb.tag == "Gather":
            if heard.gather is not None:
                raise CallError("two <Gather> in one response")
            heard.gather = dict(verb.attrib)
            heard.gather.setdefault("action", current_url)  # Twilio's default
            for child in verb:
                speak(child)
        elif verb.tag == "Redirect":
            heard.redirect = (verb.text or "").strip() or current_url
            break  # Twilio leaves the document at a Redirect
        elif verb.tag in {"Enqueue", "Dial"}:
            heard.transfer = _transfer(verb)
            heard.transferred = heard.transfer["queue"]
            break
        elif verb.tag == "Hangup":
            heard.hung_up = True
            break
        else:
            raise CallError(f"unexpected verb <{verb.tag}>")
    else:
        if heard.gather is None:
            heard.hung_up = True  # the document ran out: Twilio ends the call
    return heard
