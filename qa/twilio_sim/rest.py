"""The few Twilio REST endpoints the app calls, faked behind the `twilio`
library's own HTTP client interface: the app's real adapter
(telephony/call_control.py) builds the real requests with the real library,
and they land here instead of api.twilio.com.

Each answers as Twilio documents, failures included:
- POST /Calls/{CallSid}.json (Url, Method, Status): an unknown call is 404
  (error 20404); a call no longer in progress cannot be redirected (400,
  error 21220); Status=completed hangs it up
  (https://www.twilio.com/docs/voice/api/call-resource).
- POST /Queues/{QueueSid}/Members/{CallSid|Front}.json (Url, Method): dequeues
  that member to the URL; a call not in the queue (never, or no longer) fails
  with 400 ("a second update action on that same member will fail",
  https://www.twilio.com/docs/voice/api/member-resource).
- POST /Conferences/{ConferenceSid}/Participants/{CallSid}.json (Hold,
  HoldUrl, HoldMethod (GET by default), Muted): an unknown conference or
  participant is 404.
- POST /Conferences/{ConferenceSid}.json (Status=completed): ends it; an ended
  conference answers 400.
Credentials other than the account's are 401 (error 20003). The change
happens after the response (Twilio answers first, then moves the call):
`Twilio.settle()` carries it out.
"""
from __future__ import annotations

import json
import logging
import re
from urllib.parse import urlsplit

from twilio.http import HttpClient
from twilio.http.response import Response

ROUTES = (
    ("call", re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Calls/(?P<call>\w+)\.json$")),
    ("member", re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Queues/(?P<queue>\w+)"
                          r"/Members/(?P<call>\w+)\.json$")),
    ("participant", re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Conferences/"
                               r"(?P<conference>\w+)/Participants/(?P<call>\w+)\.json$")),
    ("conference", re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Conferences/"
                              r"(?P<conference>\w+)\.json$")),
)


def _error(status: int, code: int, message: str) -> Response:
    return Response(status, json.dumps({
        "code": code, "message": message, "status": status,
        "more_info": f"https://www.twilio.com/docs/errors/{code}"}))


class FakeRestApi(HttpClient):
    def __init__(self, twilio):
        super().__init__(logging.getLogger("twilio_sim.rest"), is_async=False, timeout=None)
        self.twilio = twilio
        self.calls: list[tuple[str, str, dict]] = []  # (method, path, data), for assertions
        self.down = False  # a test makes Twilio's API unreachable

    def request(self, method, url, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False) -> Response:
        path = urlsplit(url).path
        data = {k: str(v) for k, v in (data or {}).items()}
        self.calls.append((method, path, data))
        if self.down:
            raise ConnectionError("api.twilio.com: connection refused")
        if auth is None or tuple(auth) != (self.twilio.account_sid, self.twilio.auth_token):
            return _error(401, 20003, "Authenticate")
        for name, pattern in ROUTES:
            found = pattern.match(path)
            if found and method == "POST":
                if found["account"] != self.twilio.account_sid:
                    return _error(404, 20404, f"The requested resource {path} was not found")
                return getattr(self, f"_{name}")(path, data, **{
                    k: v for k, v in found.groupdict().items() if k != "account"})
        return _error(404, 20404, f"The requested resource {path} was not found")

    # ---- the endpoints -----------------------------------------------------------
    def _call(self, path, data, *, call):
        leg = self.twilio.legs.get(call)
        if leg is None:
            return _error(404, 20404, f"The requested resource {path} was not found")
        if leg.ended:
            return _error(400, 21220, "Call is not in-progress. Cannot redirect.")
        if data.get("Status") in ("completed", "canceled"):
            self.twilio.later(lambda: leg.hang_up(data["Status"]))
        elif data.get("Url"):
            self.twilio.later(lambda: leg.redirected(data["Url"], data.get("Method", "POST")))
        else:
            return _error(400, 21205, "Url parameter is required")
        return Response(200, json.dumps({"sid": leg.sid, "status": "in-progress",
                                         "from": leg.from_, "to": leg.to}))

    def _member(self, path, data, *, queue, call):
        found = self.twilio.queue_by_sid(queue)
        if found is None:
            return _error(404, 20404, f"The requested resource {path} was not found")
        if not data.get("Url"):
            return _error(400, 21205, "Url parameter is required")
        leg = found.members[0] if call == "Front" and found.members else \
            self.twilio.legs.get(call)
        if leg is None or leg not in found.members:
            return _error(400, 20404, "Call is not a member of this queue")
        position, waited = found.position(leg), leg.queue_time()
        # Taken out of the line now, so a second dequeue fails as Twilio's does.
        found.members.remove(leg)
        self.twilio.later(lambda: leg.redirected(data["Url"], data.get("Method", "POST")))
        return Response(200, json.dumps({"call_sid": leg.sid, "queue_sid": found.sid,
                                         "position": position, "wait_time": waited}))

    def _participant(self, path, data, *, conference, call):
        room = self.twilio.conference_by_sid(conference)
        participant = room.participants.get(call) if room is not None else None
        if room is None or room.status == "completed" or participant is None:
            return _error(404, 20404, f"The requested resource {path} was not found")
        if "Hold" in data:
            hold = data["Hold"].lower() == "true"
            url = data.get("HoldUrl")

            def change():
                participant.hold = hold
                if hold and url and not participant.leg.ended:
                    participant.leg.event(lambda: participant.leg.current.plays.append(url))
            self.twilio.later(change)
        if "Muted" in data:
            participant.muted = data["Muted"].lower() == "true"
        return Response(200, json.dumps({"call_sid": call, "conference_sid": room.sid,
                                         "hold": data.get("Hold", "false") == "true",
                                         "muted": participant.muted, "status": "connected"}))

    def _conference(self, path, data, *, conference):
        room = self.twilio.conference_by_sid(conference)
        if room is None:
            return _error(404, 20404, f"The requested resource {path} was not found")
        if room.status == "completed":
            return _error(400, 20009, "Bad request: the conference has ended")
        if data.get("Status") == "completed":
            self.twilio.later(lambda: room.end("conference-ended-via-api"))
        return Response(200, json.dumps({"sid": room.sid, "friendly_name": room.name,
                                         "status": "completed"}))
