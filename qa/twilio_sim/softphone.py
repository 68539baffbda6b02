"""A desk's softphone: Twilio's Voice JavaScript SDK `Device`, registered
with an identity (the access token's). Its outgoing calls reach the TwiML
App's voice URL with From=client:<identity>, the TwiML App's Sid and the
custom parameters given to `device.connect({params})`
(https://www.twilio.com/docs/voice/sdks/javascript/twiliocall: custom
parameters "will be sent in the body of the HTTP request"); a <Dial><Client>
rings it, and it may answer or reject."""
from __future__ import annotations

from qa.twilio_sim.heard import CallError
from qa.twilio_sim.leg import Leg
from qa.twilio_sim.rooms import new_sid


class Softphone:
    def __init__(self, twilio, identity: str):
        self.twilio, self.identity = twilio, identity
        self.registered = True
        self.ringing: list = []  # dialing legs ringing this phone
        self.calls: list = []  # its legs, newest last

    @property
    def call(self):
        """The phone's live call, if any."""
        live = [leg for leg in self.calls if not leg.ended]
        return live[-1] if live else None

    def connect(self, **params):
        """`device.connect({params})`: a call to the TwiML App."""
        caller_id = f"client:{self.identity}"
        leg = Leg(self.twilio, sid=new_sid("CA"), from_=caller_id, to=params.pop("To", ""),
                  direction="inbound",
                  extra={"ApplicationSid": self.twilio.twiml_app_sid, **params})
        self.twilio.legs[leg.sid] = leg
        self.calls.append(leg)
        try:
            leg.start(self.twilio.twiml_app_url)
        finally:
            self.twilio.settle()
        return leg

    def hang_up(self) -> None:
        call = self.call
        if call is None:
            raise CallError(f"{self.identity} has no call to hang up")
        call.hang_up()

    def unregister(self) -> None:
        self.registered = False

    # ---- incoming calls ---------------------------------------------------------
    def ring(self, dialer) -> None:
        self.ringing.append(dialer)

    def stop_ringing(self, dialer) -> None:
        if dialer in self.ringing:
            self.ringing.remove(dialer)

    def answer(self):
        """Accept the oldest ringing call: the two legs are bridged."""
        if not self.ringing:
            raise CallError(f"nothing rings on {self.identity}")
        dialer = self.ringing.pop(0)
        leg = Leg(self.twilio, sid=new_sid("CA"), from_=dialer.from_,
                  to=f"client:{self.identity}", direction="outbound-dial")
        leg.state, leg.started_at = "bridged", self.twilio.clock
        self.twilio.legs[leg.sid] = leg
        self.calls.append(leg)
        dialer.state, dialer.peer, leg.peer = "bridged", leg, dialer
        return leg

    def reject(self) -> None:
        if not self.ringing:
            raise CallError(f"nothing rings on {self.identity}")
        dialer = self.ringing.pop(0)
        dialer.event(lambda: dialer.dial_ended("busy"))
        self.twilio.settle()

    def call_over(self, leg) -> None:
        self.stop_ringing(leg)
