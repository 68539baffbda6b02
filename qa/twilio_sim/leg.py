"""One call leg, executing TwiML as Twilio does.

The rules modelled, each from Twilio's documentation:
- A document runs verb by verb; when it runs out, Twilio hangs up
  (https://www.twilio.com/docs/voice/twiml: "If there is no further verb,
  Twilio will end the phone call").
- <Gather>: keys go to its action (default: the document's URL); with no keys
  and no actionOnEmptyResult, Twilio falls through to the next verb; the finish
  key alone is ignored; numDigits submits at once.
- <Redirect> fetches a document, relative URLs resolving against the current
  one, with the method it names (POST by default).
- <Enqueue> puts the leg at the back of the named queue and plays its wait URL,
  again and again while the leg waits ("Once the TwiML document located at
  the waitUrl runs out of verbs to execute, Twilio re-requests the waitUrl");
  the wait document may only Play, Say, Pause, Redirect, Leave, Hangup or
  Gather. The action is requested when the leg leaves the line: at once for
  <Leave> or a REST dequeue, after both parties hang up for a bridge made by
  <Dial><Queue>. After <Leave> (or a full queue) the action's TwiML runs, or
  without an action the verb after <Enqueue>; after a REST redirect the call
  runs the new URL and what the action answers is not executed.
- <Dial> ends, then requests its action with DialCallStatus (or, without one,
  moves on to the next verb). <Client> rings only a registered identity; an
  unregistered one is no-answer at once (Twilio's docs are silent; observed
  behaviour). <Queue> bridges to the front member, or waits for one until the
  timeout (30 s by default, plus Twilio's 5 s buffer); a queue that does not
  exist fails. <Conference>: see rooms.py. A conference's wait URL does not
  loop: when it runs out, silence, unless it ends in a <Redirect>.
- A REST redirect (Call update) abandons whatever the leg was doing: it leaves
  its queue (action: QueueResult=redirected) or its conference (the <Dial>
  action is requested with DialCallStatus=completed and its TwiML not
  executed: Twilio's changelog "Changes to <Dial> behavior…").
- When the call ends, the number's status callback gets CallStatus and
  CallDuration.
"""
from __future__ import annotations

import time

from qa.twilio_sim.heard import (
    CALL_VERBS, CONFERENCE_WAIT_VERBS, QUEUE_WAIT_VERBS, CallError, Heard, parse_document,
    resolve, transfer_of,
)

MAX_REDIRECTS = 20  # Twilio gives up on a redirect loop; so do we, loudly
WORDS_PER_SECOND = 2.5  # how fast a text-to-speech voice says Spanish prompts
TWILIO_MUSIC = "twilio:default-hold-music"  # what a missing wait URL plays


class Leg:
    def __init__(self, twilio, *, sid: str, from_: str, to: str, direction: str,
                 status_callback: str | None = None, extra: dict | None = None):
        self.twilio, self.sid = twilio, sid
        self.from_, self.to, self.direction = from_, to, direction
        self.status_callback = status_callback
        self.extra = dict(extra or {})  # more parameters on every request (TwiML App legs)
        self.state = "new"  # new running gather queue conference dialing bridged paused ended
        self.document_url = ""
        self.after: list = []  # the verbs after the one the leg waits on
        self.gather: dict | None = None
        self.enqueued: dict | None = None
        self.dialing: dict | None = None
        self.peer: "Leg | None" = None  # bridged by <Dial><Queue> or <Dial><Client>
        self.wait_next: tuple[str, str] | None = None  # a conference wait's next round
        self.stops: set[str] = set()
        self.heard_log: list[Heard] = []
        self.current: Heard | None = None
        self.transcript: list[tuple[str, str]] = []
        self.started_at: float | None = None
        self.status_code: int | None = None  # what the status callback answered
        self.prompt_seconds = 0.0  # what the party heard said, at WORDS_PER_SECOND, and pauses
        self.redirects = 0

    # ---- what Twilio sends -----------------------------------------------------------
    def params(self, status: str | None = None, **extra) -> dict:
        params = dict(AccountSid=self.twilio.account_sid, CallSid=self.sid, From=self.from_,
                      To=self.to, Caller=self.from_, Called=self.to,
                      CallStatus=status or ("completed" if self.state == "ended"
                                            else "in-progress"),
                      Direction=self.direction, ApiVersion="2010-04-01")
        params.update(self.extra)
        params.update(extra)
        return params

    def duration(self) -> int:
        """Whole seconds of call so far: time passed, and the prompts heard."""
        elapsed = self.twilio.clock - (self.started_at or self.twilio.clock)
        return max(1, round(elapsed + self.prompt_seconds))

    @property
    def last(self) -> Heard | None:
        return self.heard_log[-1] if self.heard_log else None

    @property
    def ended(self) -> bool:
        return self.state == "ended"

    def talking_to(self) -> set:
        """The legs this one hears now (and who hear it)."""
        if self.state == "bridged" and self.peer is not None:
            return {self.peer}
        conference = (self.dialing or {}).get("conference")
        return conference.hears(self) if conference is not None else set()

    # ---- events: each is one stretch of what the leg hears ---------------------
    def event(self, happen) -> Heard:
        """Run `happen` as one stretch: what the leg hears meanwhile is one Heard."""
        if self.state == "ended":
            raise CallError(f"call {self.sid} has ended")
        errors = len(self.twilio.errors)
        heard = self.current = Heard(says=[])
        started = time.perf_counter()
        self.redirects = 0
        try:
            happen()
        finally:
            heard.latency = time.perf_counter() - started
            self.current = None
            if heard.says or heard.plays or heard.gather or heard.transfer or heard.hung_up:
                self.heard_log.append(heard)
                if heard.text:
                    self.transcript.append(("ivr", heard.text))
        if len(self.twilio.errors) > errors:
            raise CallError(self.twilio.errors[-1])
        return heard

    def start(self, url: str | None = None) -> Heard:
        """Twilio answers the call and asks for its first document."""
        if self.state != "new":
            raise CallError("the call has already started")
        self.started_at = self.twilio.clock
        self.state = "running"
        return self.event(lambda: self.fetch(url or self.twilio.voice_url,
                                             status="ringing"))

    def press(self, keys: str) -> Heard:
        """Key `keys`; a trailing finish key ends a variable-length entry."""
        gather = self._pending_gather()
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
            # Only the finish key: Twilio ignores it ("ignored with no digits")
            # and the gather times out as if the caller said nothing.
            return self.event(self._no_input)
        return self.event(lambda: self._gathered(digits))

    def silence(self) -> Heard:
        self._pending_gather()
        self.transcript.append(("caller", "(silencio)"))
        return self.event(self._no_input)

    def hang_up(self, status: str = "completed") -> int | None:
        """The caller hangs up (or the call ends with `status`): whatever the
        leg waited in, it leaves, and the status callback is posted."""
        errors = len(self.twilio.errors)
        if self.state == "ended":
            self._report_end(status)  # Twilio delivers a status callback again, at times
        else:
            self.end(status)
        self.twilio.settle()
        if len(self.twilio.errors) > errors:
            raise CallError(self.twilio.errors[-1])
        return self.status_code

    def stop_before(self, verb: str) -> None:
        """Freeze the leg when it reaches <verb>, as if the prompts before it
        were still playing; `resume()` goes on, `hang_up()` is a caller who
        hung up meanwhile."""
        self.stops.add(verb)

    def resume(self) -> Heard:
        if self.state != "paused":
            raise CallError("the call is not paused")
        verbs, self.after = self.after, []
        self.state = "running"
        heard = self.event(lambda: self.run(verbs))
        self.twilio.settle()
        return heard

    def _pending_gather(self) -> dict:
        if self.state != "gather" or self.gather is None:
            raise CallError("the IVR is not waiting for keys")
        return self.gather

    def _gathered(self, digits: str) -> None:
        gather, self.gather, self.state = self.gather, None, "running"
        self.fetch(gather["action"], method=gather.get("method", "POST"), Digits=digits)

    def _no_input(self) -> None:
        gather, self.gather, self.state = self.gather, None, "running"
        if str(gather.get("actionOnEmptyResult", "")).lower() == "true":
            self.fetch(gather["action"], method=gather.get("method", "POST"), Digits="")
        else:
            self.run(self.after)

    # ---- documents ---------------------------------------------------------------
    def fetch(self, url: str, *, method: str = "POST", status: str | None = None,
              **extra) -> None:
        """Ask the app for a document and run it."""
        verbs = self._document(url, method, self.params(status, **extra))
        self.document_url = url
        self.run(verbs)

    def _document(self, url: str, method: str, params: dict) -> list:
        """The verbs of the document at `url`; anything Twilio could not follow
        breaks the call."""
        try:
            status_code, body = self.twilio.request(url, params, method=method)
        except CallError as exc:
            self.broken(str(exc))
        if status_code != 200:
            self.broken(f"{url} answered {status_code}: {body[:200]}")
        try:
            return parse_document(body)
        except CallError as exc:
            self.broken(f"{url}: {exc}")

    def broken(self, problem: str):
        """Twilio cannot go on: it says its canned apology and hangs up."""
        error = self.twilio.fail(problem)
        if self.current is not None:
            self.current.says.append("[error de aplicación]")
        self.end("completed")
        raise error

    def run(self, verbs: list) -> None:
        verbs = list(verbs)
        while verbs:
            verb = verbs.pop(0)
            if verb.tag in self.stops:
                self.stops.discard(verb.tag)
                self.state, self.after = "paused", [verb, *verbs]
                return
            if verb.tag not in CALL_VERBS or verb.tag == "Leave":
                self.broken(f"unexpected verb <{verb.tag}> in {self.document_url}")
            if verb.tag in ("Say", "Play", "Pause"):
                self.speak(verb)
            elif verb.tag == "Gather":
                self._gather(verb, verbs)
                return
            elif verb.tag == "Redirect":
                self._redirect(verb, self.document_url)
                return
            elif verb.tag in ("Hangup", "Reject"):
                if self.current is not None:
                    self.current.hung_up = True
                self.end("completed")
                return
            elif verb.tag == "Enqueue":
                self._enqueue(verb, verbs)
                return
            elif verb.tag == "Dial":
                self._dial(verb, verbs)
                return
        if self.current is not None:
            self.current.hung_up = True
        self.end("completed")  # the document ran out: Twilio hangs up

    def speak(self, verb) -> None:
        heard = self.current
        if heard is None:
            return
        if verb.tag == "Say":
            heard.says.append((verb.text or "").strip())
            self.prompt_seconds += len(heard.says[-1].split()) / WORDS_PER_SECOND
        elif verb.tag == "Play":
            url = resolve(verb.text or "", self.document_url)
            heard.plays.append(url)
            ours = url.startswith(self.twilio.base_url + "/")
            text = self.twilio.play_to_text(url) if ours and self.twilio.play_to_text else None
            if text:
                heard.says.append(text)
                self.prompt_seconds += len(text.split()) / WORDS_PER_SECOND
        elif verb.tag == "Pause":
            length = verb.attrib.get("length", "1")
            heard.pause_seconds += int(length) if length.isdigit() else 1
            self.prompt_seconds += int(length) if length.isdigit() else 1

    def _gather(self, verb, after: list) -> None:
        attrs = dict(verb.attrib)
        attrs["action"] = resolve(attrs.get("action") or self.document_url, self.document_url)
        for child in verb:
            if child.tag not in ("Say", "Play", "Pause"):
                self.broken(f"<Gather> may not hold <{child.tag}>")
            self.speak(child)
        self.state, self.gather, self.after = "gather", attrs, after
        if self.current is not None:
            self.current.gather = attrs
            if after and after[0].tag == "Redirect":
                self.current.redirect = resolve(after[0].text or "", self.document_url)

    def _redirect(self, verb, document_url: str) -> None:
        self.redirects += 1
        if self.redirects > MAX_REDIRECTS:
            self.broken(f"more than {MAX_REDIRECTS} redirects without input")
        self.fetch(resolve(verb.text or "", document_url) or document_url,
                   method=verb.attrib.get("method", "POST"))

    # ---- the queue -----------------------------------------------------------------
    def _enqueue(self, verb, after: list) -> None:
        if verb.attrib.get("workflowSid"):
            self.broken("<Enqueue workflowSid>: TaskRouter is not simulated")
        name = (verb.text or "").strip()
        try:
            queue = self.twilio.queue(name)
        except ValueError as exc:
            self.broken(f"<Enqueue>: {exc}")
        if self.current is not None:
            self.current.transfer = transfer_of(verb)
            self.current.transferred = name
        self.enqueued = {"queue": queue, "attrs": dict(verb.attrib), "document": self.document_url,
                         "after": after, "since": self.twilio.clock}
        if len(queue.members) >= queue.MAX_SIZE:
            self.left_queue("queue-full")
            return
        queue.members.append(self)
        self.state = "queue"
        self.twilio.member_joined(queue)
        if self.state == "queue":
            self._wait_round()

    def _wait_round(self) -> None:
        """One round of the queue's wait URL."""
        entry = self.enqueued
        wait_url = entry["attrs"].get("waitUrl")
        if wait_url is None:
            self.current and self.current.plays.append(TWILIO_MUSIC)
            return
        if wait_url == "":
            return
        queue = entry["queue"]
        url = resolve(wait_url, entry["document"])
        self._wait_document(url, entry["attrs"].get("waitUrlMethod", "POST"), QUEUE_WAIT_VERBS,
                            QueuePosition=str(queue.position(self)), QueueSid=queue.sid,
                            QueueTime=str(self.queue_time()), AvgQueueTime="0",
                            CurrentQueueSize=str(len(queue.members)),
                            MaxQueueSize=str(queue.MAX_SIZE))

    def queue_time(self) -> int:
        return int(self.twilio.clock - self.enqueued["since"]) if self.enqueued else 0

    def _wait_document(self, url: str, method: str, allowed: set, depth: int = 0,
                       **extra) -> None:
        """A wait (or hold) document: only some verbs are allowed in it."""
        verbs = self._document(url, method, self.params(**extra))
        kind = "queue" if allowed is QUEUE_WAIT_VERBS else "conference"
        for verb in verbs:
            if verb.tag not in allowed:
                self.broken(f"<{verb.tag}> is not allowed in a {kind} wait document ({url})")
            if verb.tag in ("Say", "Play", "Pause"):
                saved, self.document_url = self.document_url, url
                self.speak(verb)
                self.document_url = saved
            elif verb.tag == "Leave":
                self.left_queue("leave")
                return
            elif verb.tag == "Hangup":
                self.end("completed")
                return
            elif verb.tag == "Gather":
                self.broken("<Gather> in a wait URL is not simulated")
            elif verb.tag == "Redirect":
                target = resolve(verb.text or "", url) or url
                method = verb.attrib.get("method", "POST")
                if kind == "conference":
                    self.wait_next = (target, method)  # the next round, when time passes
                elif depth < MAX_REDIRECTS:
                    self._wait_document(target, method, allowed, depth + 1, **extra)
                return

    def left_queue(self, result: str) -> None:
        """The leg leaves its line, for `result` (Twilio's QueueResult)."""
        entry, self.enqueued = self.enqueued, None
        queue = entry["queue"]
        if self in queue.members:
            queue.members.remove(self)
        attrs = entry["attrs"]
        action = attrs.get("action")
        params = dict(QueueResult=result, QueueSid=queue.sid,
                      QueueTime=str(int(self.twilio.clock - entry["since"])))
        method = attrs.get("method", "POST")
        if result in ("redirected", "hangup"):
            if action:  # requested; what it answers is not executed
                self.twilio.callback(resolve(action, entry["document"]),
                                     self.params(**params), method=method)
            return
        self.state = "running"
        if action:
            self.fetch(resolve(action, entry["document"]), method=method, **params)
        else:
            self.run(entry["after"])

    # ---- dialing -----------------------------------------------------------------
    def _dial(self, verb, after: list) -> None:
        detail = transfer_of(verb)
        if self.current is not None:
            self.current.transfer, self.current.transferred = detail, detail["queue"]
        attrs = dict(verb.attrib)
        timeout = attrs.get("timeout", "30")
        self.dialing = {"attrs": attrs, "document": self.document_url, "after": after,
                        "target": detail["target"], "name": detail["queue"],
                        "since": self.twilio.clock,
                        "timeout": int(timeout) if timeout.isdigit() else 30}
        target, name = detail["target"], detail["queue"]
        if target == "Conference":
            conference = self.twilio.conference(name)
            self.dialing["conference"] = conference
            self.state = "conference"
            conference.join(self, detail.get("noun", {}), self.document_url)
            if self.state == "conference" and not conference.started:
                self._conference_round()
        elif target == "Client":
            phone = self.twilio.softphones.get(name)
            if phone is None or not phone.registered:
                self.dial_ended("no-answer")
            else:
                self.state = "dialing"
                phone.ring(self)
        elif target == "Queue":
            queue = self.twilio.queues.get(name)
            if queue is None:
                self.dial_ended("failed")  # "If the queue does not exist, Dial will post an error"
            elif queue.members:
                self.bridge(queue.members[0])
            else:
                self.state = "dialing"
                queue.dialers.append(self)
        else:  # a phone number or SIP address: no phone outside answers here
            self.dial_ended("no-answer")

    def bridge(self, member: "Leg") -> None:
        """<Dial><Queue> took `member` from the front of the line."""
        queue = member.enqueued["queue"]
        queue.members.remove(member)
        member.state, self.state = "bridged", "bridged"
        member.peer, self.peer = self, member

    def bridge_over(self) -> None:
        """The other side of a bridge left: this side's verb ends."""
        self.peer = None
        if self.enqueued is not None:  # the enqueued side: its action comes now
            self.left_queue("bridged")
        elif self.dialing is not None:
            self.dial_ended("completed")
        else:  # the answering side of a <Dial><Client>: its call is over
            self.end("completed")

    def dial_ended(self, status: str) -> None:
        dialing, self.dialing = self.dialing, None
        self.state = "running"
        action = dialing["attrs"].get("action")
        if action:
            self.fetch(resolve(action, dialing["document"]),
                       method=dialing["attrs"].get("method", "POST"), DialCallStatus=status)
        else:
            self.run(dialing["after"])

    def conference_ended(self) -> None:
        """The conference ended with this leg in it: its <Dial> is over."""
        if self.state == "ended":
            return
        if self.current is not None:
            self.dial_ended("answered")
        else:
            self.event(lambda: self.dial_ended("answered"))

    def _conference_round(self) -> None:
        conference = self.dialing["conference"]
        participant = conference.participants.get(self.sid)
        if participant is None or conference.started:
            return
        if participant.wait_url is None:
            self.current and self.current.plays.append(TWILIO_MUSIC)
        elif participant.wait_url:
            self.wait_next = None
            self._wait_document(participant.wait_url, participant.wait_method,
                                CONFERENCE_WAIT_VERBS)

    # ---- time and REST ---------------------------------------------------------------
    def time_passed(self) -> None:
        if self.state == "queue" and self in self.enqueued["queue"].members:
            self.event(self._wait_round)
        elif self.state == "conference" and self.wait_next is not None:
            conference = self.dialing["conference"]
            if not conference.started:
                url, method = self.wait_next
                self.wait_next = None
                self.event(lambda: self._wait_document(url, method, CONFERENCE_WAIT_VERBS))
        elif self.state == "dialing":
            dialing = self.dialing
            if self.twilio.clock - dialing["since"] >= dialing["timeout"] + 5:
                self.event(lambda: self._ring_out())

    def _ring_out(self) -> None:
        if self.dialing["target"] == "Client":
            phone = self.twilio.softphones.get(self.dialing["name"])
            phone and phone.stop_ringing(self)
        elif self.dialing["target"] == "Queue":
            queue = self.twilio.queues.get(self.dialing["name"])
            queue and self in queue.dialers and queue.dialers.remove(self)
        self.dial_ended("no-answer")

    def redirected(self, url: str, method: str = "POST") -> Heard:
        """The REST API moved this live call to `url`."""
        def move():
            self._abandon("participant_updated_via_api")
            self.state = "running"
            self.fetch(url, method=method)
        return self.event(move)

    def _abandon(self, reason: str) -> None:
        """Leave whatever the leg is waiting in, for a call modification."""
        if self.state == "queue":
            self.left_queue("redirected")
        elif self.state in ("conference", "dialing", "bridged") and self.dialing is not None:
            dialing = self.dialing
            self._leave_dial(reason)
            action = dialing["attrs"].get("action")
            if action:  # requested; what it answers is not executed
                self.twilio.callback(resolve(action, dialing["document"]),
                                     self.params(DialCallStatus="completed"),
                                     method=dialing["attrs"].get("method", "POST"))
        elif self.state == "bridged" and self.peer is not None:  # the enqueued side
            peer, self.peer = self.peer, None
            self.enqueued = None
            peer.event(peer.bridge_over)
        self.gather, self.after, self.dialing = None, [], None

    def _leave_dial(self, reason: str) -> None:
        dialing = self.dialing
        conference = dialing.get("conference")
        if conference is not None:
            conference.leave(self, reason)
        elif dialing["target"] == "Client" and self.peer is None:
            phone = self.twilio.softphones.get(dialing["name"])
            phone and phone.stop_ringing(self)
        elif dialing["target"] == "Queue" and self.peer is None:
            queue = self.twilio.queues.get(dialing["name"])
            queue and self in queue.dialers and queue.dialers.remove(self)
        if self.peer is not None:
            peer, self.peer = self.peer, None
            peer.event(peer.bridge_over)

    def end(self, status: str = "completed") -> None:
        """The call is over: hung up by the caller, by <Hangup>, by a document
        that ran out, or by the REST API."""
        if self.state == "ended":
            return
        previous, self.state = self.state, "ending"
        if previous == "queue":
            self.left_queue("hangup")
        elif previous in ("conference", "dialing", "bridged") and self.dialing is not None:
            self._leave_dial("participant_hung_up")
        elif previous == "bridged" and self.peer is not None:
            peer, self.peer = self.peer, None
            self.enqueued = None
            peer.event(peer.bridge_over)
        self.state, self.gather, self.dialing, self.after = "ended", None, None, []
        self._report_end(status)
        for phone in self.twilio.softphones.values():
            phone.call_over(self)

    def _report_end(self, status: str) -> None:
        if not self.status_callback:
            return
        try:
            code, body = self.twilio.request(
                self.status_callback, self.params(status, CallDuration=str(self.duration())),
                method="POST")
        except CallError as exc:
            self.twilio.fail(str(exc))
            return
        self.status_code = code
        if not 200 <= code < 300:
            self.twilio.fail(f"{self.status_callback} answered {code}: {body[:200]}")
