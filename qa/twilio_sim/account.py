"""A Twilio account, simulated: its phone number's calls, its queues and
conferences, the softphones registered to it, and its REST API.

It talks to the app exactly as Twilio does: every webhook is signed
(X-Twilio-Signature, HMAC-SHA1 over the URL and the sorted form, keyed by the
auth token), sent with the method the TwiML names (POST unless it says GET),
and only to the app's own host: a URL on another host is unreachable here, as
a misconfigured URL would be for Twilio, and is an application error.

What the app asks of the REST API (telephony/call_control.py, given
`twilio.rest` as its transport) takes effect after the request that asked for
it, as with Twilio, which answers the REST call first and moves the call
afterwards: `settle()` runs those effects. Every application error Twilio
would log (a non-2xx answer, TwiML it cannot follow, a verb not allowed where
it stands) is kept in `errors`, and the action that caused it raises CallError.
"""
from __future__ import annotations

import collections
import datetime as dt
import time
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

from qa.twilio_sim.heard import CallError
from qa.twilio_sim.leg import Leg
from qa.twilio_sim.retries import ConnectionFailed, split_overrides
from qa.twilio_sim.rest import FakeRestApi
from qa.twilio_sim.rooms import Conference, Queue, new_sid
from qa.twilio_sim.softphone import Softphone

ACCOUNT_SID = "AC" + "0" * 32
MAX_SETTLE_STEPS = 200  # a REST loop (redirect → redirect → …) is a bug, said loudly


class Twilio:
    def __init__(self, transport, *, base_url: str, auth_token: str,
                 account_sid: str = ACCOUNT_SID, number: str = "+525557213390",
                 twiml_app_sid: str | None = None, play_to_text=None):
        self.transport = transport
        self.base_url = base_url.rstrip("/")
        self.validator, self.auth_token = RequestValidator(auth_token), auth_token
        self.account_sid, self.number = account_sid, number
        # The number's configuration in the console: voice URL and status callback.
        self.voice_url = f"{self.base_url}/ivr/voice"
        self.status_callback = f"{self.base_url}/ivr/status"
        # The TwiML App the desk's softphones call through.
        self.twiml_app_sid = twiml_app_sid or "AP" + "1" * 32
        self.twiml_app_url = f"{self.base_url}/ivr/agent/voice"
        self.play_to_text = play_to_text
        self.clock = 0.0  # seconds since the account's first call
        self.queues: dict[str, Queue] = {}
        self.conferences: dict[str, Conference] = {}  # in progress (or starting), by name
        self.ended_conferences: dict[str, Conference] = {}  # by Sid
        self.legs: dict[str, Leg] = {}
        self.softphones: dict[str, Softphone] = {}
        self.pending: collections.deque = collections.deque()
        self.errors: list[str] = []
        self.requests: list[tuple[str, str, dict]] = []  # every webhook, in order
        self.retries: list[tuple[str, str, float]] = []  # (method, url, when) of each retry
        self.rest = FakeRestApi(self)

    # -- calls ---------------------------------------------------------------------
    def incoming_call(self, *, caller: str, called: str | None = None, sid: str | None = None,
                      ) -> Leg:
        """A caller dials the bank's number (not answered until `leg.start()`)."""
        leg = Leg(self, sid=sid or new_sid("CA"), from_=caller, to=called or self.number,
                  direction="inbound", status_callback=self.status_callback)
        self.legs[leg.sid] = leg
        return leg

    def softphone(self, identity: str):
        """A desk's Voice SDK Device, registered with this identity."""
        phone = self.softphones.get(identity)
        if phone is None:
            phone = self.softphones[identity] = Softphone(self, identity)
        return phone

    def queue(self, name: str) -> Queue:
        queue = self.queues.get(name)
        if queue is None:
            queue = self.queues[name] = Queue(name)
        return queue

    def member_joined(self, queue: Queue) -> None:
        """A <Dial><Queue> waiting on an empty queue takes the newcomer."""
        if queue.dialers and queue.members:
            dialer = queue.dialers.pop(0)
            dialer.event(lambda: dialer.bridge(queue.members[0]))

    def queue_by_sid(self, sid: str) -> Queue | None:
        return next((q for q in self.queues.values() if q.sid == sid), None)

    def conference(self, name: str) -> Conference:
        conference = self.conferences.get(name)
        if conference is None:
            conference = self.conferences[name] = Conference(self, name)
        return conference

    def conference_by_sid(self, sid: str) -> Conference | None:
        return next((c for c in self.conferences.values() if c.sid == sid), None) \
            or self.ended_conferences.get(sid)

    def conference_closed(self, conference: Conference) -> None:
        if self.conferences.get(conference.name) is conference:
            del self.conferences[conference.name]
        self.ended_conferences[conference.sid] = conference

    # -- requests to the app -------------------------------------------------------
    def request(self, url: str, params: dict, *, method: str = "POST") -> tuple[int, str]:
        """A webhook, as Twilio sends it: signed, with the method asked for,
        to the app's host only, tried again as its retry policy says
        (retries.py; each retry is kept in `retries`)."""
        url, overrides = split_overrides(url)
        deadline = time.monotonic() + overrides.total_seconds
        for attempt in range(overrides.retries + 1):
            last = attempt == overrides.retries or time.monotonic() >= deadline
            try:
                status, body = self._send(url, params, method)
            except ConnectionFailed:
                if last or not overrides.retries_failure(status=None):
                    raise
                self.retries.append((method.upper(), url, time.monotonic()))
                continue
            if 200 <= status < 400 or last or not overrides.retries_failure(status=status):
                return status, body
            self.retries.append((method.upper(), url, time.monotonic()))
        raise AssertionError("unreachable")

    def _send(self, url: str, params: dict, method: str) -> tuple[int, str]:
        method = method.upper()
        if method not in ("GET", "POST"):
            raise CallError(f"{url}: method {method!r} is neither GET nor POST")
        target, base = urlsplit(url), urlsplit(self.base_url)
        if target.scheme not in ("http", "https") or \
                (target.scheme, target.netloc) != (base.scheme, base.netloc):
            raise CallError(f"{url}: not reachable (the app is at {self.base_url})")
        self.requests.append((method, url, dict(params)))
        if method == "GET":
            signed_url = url + ("&" if target.query else "?") + urlencode(params)
            headers = {"X-Twilio-Signature": self.validator.compute_signature(signed_url, {})}
            if not hasattr(self.transport, "get"):
                raise CallError(f"{url}: this transport cannot send GET")
            return self.transport.get(signed_url, headers)
        headers = {"X-Twilio-Signature": self.validator.compute_signature(url, params)}
        return self.transport.post(url, params, headers)

    def callback(self, url: str, params: dict, *, method: str = "POST") -> None:
        """A request whose answer Twilio does not execute (status callbacks,
        conference events, an action after a REST redirect): only its status counts."""
        try:
            status, body = self.request(url, params, method=method)
        except CallError as exc:
            raise self.fail(str(exc)) from None
        if not 200 <= status < 300:
            raise self.fail(f"{url} answered {status}: {body[:200]}")

    def fail(self, problem: str) -> CallError:
        self.errors.append(problem)
        return CallError(problem)

    # -- time and background work ---------------------------------------------------
    def timestamp(self) -> str:
        moment = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
            seconds=self.clock)
        return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")

    def later(self, effect) -> None:
        """Something the REST API was asked to do, done after the request."""
        self.pending.append(effect)

    def settle(self) -> None:
        """Carry out what the REST API was asked to do, and what that causes."""
        for _ in range(MAX_SETTLE_STEPS):
            if not self.pending:
                return
            self.pending.popleft()()
        raise self.fail(f"more than {MAX_SETTLE_STEPS} REST effects in a row")

    def advance(self, seconds: float) -> None:
        """Time passes: callers in line hear their wait URL again (Twilio loops
        it), conference waiters their next round, and rings time out."""
        self.settle()
        self.clock += seconds
        for leg in list(self.legs.values()):
            leg.time_passed()
        self.settle()
