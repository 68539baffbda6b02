"""A caller and a Twilio, simulated: places a call against the webhooks exactly
as Twilio does, through the simulated Twilio account of `qa.twilio_sim`
(signed form posts with Twilio's parameters, a fresh CallSid, From/To in
E.164; <Gather>, <Redirect>, <Say>, <Play>, <Pause>, <Enqueue> with its wait
URL and action, <Dial> with its action, <Hangup>; the status callback when
the call ends).

Two transports carry it: `FlaskTransport` (a Flask test client, in-process) and
`HttpTransport` (any URL: a server started with `make run`, or a deployed
one). The end-to-end tests, `ivr replay`, its load mode and `ivr dial` all
place their calls through `SimulatedCall`; tests that need several legs at
once (callers and agents) share one `Twilio` between them.
"""
from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from typing import Callable
from urllib.parse import urlsplit

import requests

from qa.twilio_sim import ACCOUNT_SID, CallError, Heard, Twilio
from qa.twilio_sim.heard import parse_document, resolve, transfer_of
from qa.twilio_sim.retries import ConnectionFailed

__all__ = ["ACCOUNT_SID", "CallError", "FlaskTransport", "Heard", "HttpTransport",
           "SimulatedCall", "Twilio", "parse_twiml"]


class FlaskTransport:
    def __init__(self, client):
        self.client = client

    @staticmethod
    def _path(url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def post(self, url: str, data: dict, headers: dict) -> tuple[int, str]:
        response = self.client.post(self._path(url), data=data, headers=headers)
        return response.status_code, response.get_data(as_text=True)

    def get(self, url: str, headers: dict) -> tuple[int, str]:
        response = self.client.get(self._path(url), headers=headers)
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

            session = self._local.session = requests.Session()
        return session

    def post(self, url: str, data: dict, headers: dict) -> tuple[int, str]:
        return self._send("POST", url, data, headers)

    def get(self, url: str, headers: dict) -> tuple[int, str]:
        return self._send("GET", url, None, headers)

    def _send(self, method: str, url: str, data, headers: dict) -> tuple[int, str]:

        try:
            response = self._session().request(method, url, data=data, headers=headers,
                                               timeout=self.timeout, allow_redirects=False)
        except requests.ConnectionError as exc:
            # Refused, reset, or closed before an answer (a worker killed
            # mid-request): Twilio retries these (qa/twilio_sim/retries.py).
            # A ReadTimeout is a Timeout, not a ConnectionError: not retried.
            raise ConnectionFailed(f"{url}: no answer ({type(exc).__name__}: {exc})") from None
        except requests.RequestException as exc:
            raise CallError(f"{url}: no answer ({type(exc).__name__}: {exc})") from None
        return response.status_code, response.text


class SimulatedCall:
    """One caller's call to the bank's number."""
    def __init__(self, transport, *, base_url: str, auth_token: str,
                 caller: str = "+523336693552", called: str = "+525557213390",
                 play_to_text: Callable[[str], str | None] | None = None, play=None,
                 twilio: Twilio | None = None):
        # A <Play> is heard as audio; this hook turns its URL back into the
        # words it says (a prompt manifest), so expectations can match it.
        # `play`: the same hook under the name the prompt-mode tests use.
        self.play_to_text = play_to_text or play
        self.twilio = twilio or Twilio(transport, base_url=base_url, auth_token=auth_token,
                                       number=called, play_to_text=self.play_to_text)
        self.transport, self.base_url = transport, base_url.rstrip("/")
        self.validator = self.twilio.validator
        self.caller, self.called = caller, called
        self.leg = self.twilio.incoming_call(caller=caller, called=called)
        self.call_sid = self.leg.sid
        self.latencies: list[float] = []  # seconds, one per answer heard
        self.started_at: float | None = None

    @property
    def last(self) -> Heard | None:
        return self.leg.last

    @property
    def transcript(self) -> list[tuple[str, str]]:
        return self.leg.transcript

    @property
    def ended(self) -> bool:
        """The IVR no longer answers keys: the call is over, or with the agents."""
        return self.leg.state not in ("new", "running", "gather", "paused")

    # -- what the caller does ---------------------------------------------------------
    def _act(self, act) -> Heard:
        heard = act()
        self.latencies.append(heard.latency)
        self.twilio.settle()
        return heard

    def start(self) -> Heard:
        self.started_at = time.monotonic()
        return self._act(self.leg.start)

    def press(self, keys: str) -> Heard:
        return self._act(lambda: self.leg.press(keys))

    def silence(self) -> Heard:
        """Stay silent: the gather times out. With actionOnEmptyResult Twilio
        posts the action with no Digits; without it, it falls through to the
        next verb (here the <Redirect> after the Gather)."""
        return self._act(self.leg.silence)

    def hang_up(self, status: str = "completed") -> int | None:
        """The caller hangs up (or the call ends with `status`): Twilio leaves
        the line or conference, then posts the status callback. Returns what
        the status callback answered."""
        return self.leg.hang_up(status)

    def redirected(self, url: str) -> Heard:
        """Twilio moved this live call to `url` (the REST API's call update)."""
        return self._act(lambda: self.leg.redirected(url))

    # -- raw requests, for tests of forged or repeated deliveries -------------------
    def _params(self, status: str = "in-progress", **extra) -> dict:
        return self.leg.params(status, **extra)

    def post(self, url: str, params: dict, *, signature: str | None = None) -> tuple[int, str]:
        headers = {"X-Twilio-Signature":
                   signature if signature is not None
                   else self.validator.compute_signature(url, params)}
        return self.transport.post(url, params, headers)

    def hear(self, body: str) -> Heard:
        """What a caller hears from one TwiML answer, in either prompt mode."""
        return parse_twiml(body, play_to_text=self.play_to_text)


def parse_twiml(body: str, *, play_to_text: Callable[[str], str | None] | None = None,
                current_url: str = "") -> Heard:
    """What one TwiML document says, read without following it anywhere: its
    words and plays, the pending <Gather>, the <Redirect> it falls through to,
    the transfer it ends in, or whether it hangs up."""
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

    for verb in parse_document(body):
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
            heard.redirect = resolve(verb.text or "", current_url) or current_url
            break
        elif verb.tag in {"Enqueue", "Dial"}:
            heard.transfer = transfer_of(verb)
            heard.transferred = heard.transfer["queue"]
            break
        elif verb.tag == "Hangup":
            heard.hung_up = True
            break
        elif verb.tag != "Leave":
            raise CallError(f"unexpected verb <{verb.tag}>")
    else:
        if heard.gather is None:
            heard.hung_up = True  # the document ran out: Twilio ends the call
    return heard
