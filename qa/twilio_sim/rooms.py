"""Where legs wait and meet: queues and conferences, as Twilio documents them.

Queue (https://www.twilio.com/docs/voice/twiml/enqueue, /voice/api/member-resource):
- `<Enqueue>` creates the named queue on demand (names up to 64 characters);
  callers wait in arrival order; the default maximum size is 1000 and a full
  queue refuses the caller (QueueResult `queue-full`).
- `<Dial><Queue>` takes the member at the front.
- A member is dequeued by CallSid (or `Front`) with a URL; dequeuing a call
  no longer in the queue fails (HTTP 400).

Conference (https://www.twilio.com/docs/voice/twiml/conference):
- `<Dial><Conference>` joins the conference of that name in progress, or
  starts a new one; many conferences may share a name over time, one at a
  time in progress.
- Defaults: startConferenceOnEnter true, endConferenceOnExit false, beep true.
- It starts once at least two participants are in and one of them has
  startConferenceOnEnter; until then participants hear the wait URL.
- It ends when a participant with endConferenceOnExit leaves, when the last
  participant leaves, or when the REST API completes it; every remaining
  participant then drops out (its <Dial> ends).
- The first participant's statusCallback and statusCallbackEvent are the
  conference's; events are conference-start, conference-end,
  participant-join, participant-leave (with ReasonParticipantLeft).
- A participant on hold (REST) hears the hold URL and not the others.
"""
from __future__ import annotations

import dataclasses
import uuid

from qa.twilio_sim.heard import resolve


def new_sid(prefix: str) -> str:
    """A Sid as Twilio makes them: two letters and 32 hex digits."""
    return prefix + uuid.uuid4().hex


class Queue:
    MAX_SIZE = 1000

    def __init__(self, name: str):
        if not name or len(name) > 64:
            raise ValueError(f"queue name {name!r}: 1 to 64 characters")
        self.name, self.sid = name, new_sid("QU")
        self.members: list = []  # legs, front first
        self.dialers: list = []  # <Dial><Queue> legs waiting for a member

    def position(self, leg) -> int:
        return self.members.index(leg) + 1


@dataclasses.dataclass
class Participant:
    leg: object
    start_on_enter: bool = True
    end_on_exit: bool = False
    wait_url: str | None = None  # None: Twilio's music; "": silence
    wait_method: str = "POST"
    hold: bool = False
    muted: bool = False


class Conference:
    def __init__(self, twilio, name: str):
        self.twilio, self.name, self.sid = twilio, name, new_sid("CF")
        self.status = "init"  # init → in-progress → completed
        self.participants: dict[str, Participant] = {}
        self.status_callback: str | None = None
        self.status_callback_method = "POST"
        self.events: set[str] = set()
        self.sequence = 0

    @property
    def started(self) -> bool:
        return self.status == "in-progress"

    def join(self, leg, noun: dict, document_url: str) -> Participant:
        def flag(name: str, default: bool) -> bool:
            return str(noun.get(name, str(default))).lower() == "true"

        participant = Participant(
            leg=leg, start_on_enter=flag("startConferenceOnEnter", True),
            end_on_exit=flag("endConferenceOnExit", False),
            wait_url=(resolve(noun["waitUrl"], document_url) if noun.get("waitUrl")
                      else ("" if "waitUrl" in noun else None)),
            wait_method=noun.get("waitMethod", "POST").upper(),
            muted=flag("muted", False))
        if not self.participants and self.status == "init":
            # The first participant's callback settings are the conference's.
            if noun.get("statusCallback"):
                self.status_callback = resolve(noun["statusCallback"], document_url)
                self.status_callback_method = noun.get("statusCallbackMethod", "POST").upper()
                self.events = set(noun.get("statusCallbackEvent", "").split())
        self.participants[leg.sid] = participant
        self._event("join", "participant-join", leg=leg)
        if not self.started and len(self.participants) >= 2 and any(
                p.start_on_enter for p in self.participants.values()):
            self.status = "in-progress"
            self._event("start", "conference-start")
        return participant

    def leave(self, leg, reason: str) -> None:
        participant = self.participants.pop(leg.sid, None)
        if participant is None:
            return
        self._event("leave", "participant-leave", leg=leg, ReasonParticipantLeft=reason)
        if self.status == "completed":
            return
        if participant.end_on_exit and self.started:
            self.end("participant-with-end-conference-on-exit-left", ending=leg)
        elif not self.participants:
            self.end("last-participant-left", ending=leg)

    def end(self, reason: str, ending=None) -> None:
        if self.status == "completed":
            return
        self.status = "completed"
        extra = {"ReasonConferenceEnded": reason}
        if ending is not None:
            extra["CallSidEndingConference"] = ending.sid
        self._event("end", "conference-end", **extra)
        for sid in list(self.participants):
            leg = self.participants.pop(sid).leg
            self._event("leave", "participant-leave", leg=leg,
                        ReasonParticipantLeft="conference_ended")
            leg.conference_ended()
        self.twilio.conference_closed(self)

    def hears(self, leg) -> set:
        """Whom `leg` talks with now: the other participants, once the
        conference is in progress, when neither side is on hold."""
        me = self.participants.get(leg.sid)
        if me is None or not self.started or me.hold:
            return set()
        return {p.leg for p in self.participants.values() if p.leg is not leg and not p.hold}

    def _event(self, kind: str, name: str, *, leg=None, **extra) -> None:
        if kind not in self.events or not self.status_callback:
            return
        self.sequence += 1
        params = {"AccountSid": self.twilio.account_sid, "ConferenceSid": self.sid,
                  "FriendlyName": self.name, "StatusCallbackEvent": name,
                  "SequenceNumber": str(self.sequence), "Timestamp": self.twilio.timestamp()}
        if leg is not None:
            participant = self.participants.get(leg.sid)
            params.update(CallSid=leg.sid, Muted=str(bool(participant and participant.muted))
                          .lower(), Hold=str(bool(participant and participant.hold)).lower())
        params.update(extra)
        self.twilio.callback(self.status_callback, params, method=self.status_callback_method)
