"""Twilio, simulated after its documentation, for end-to-end tests and QA.

A `Twilio` account holds calls (`Leg`), queues, conferences and the desk's
softphones, and fakes the REST endpoints the app calls (`twilio.rest`, an HTTP
client for the `twilio` library). Tests hold several legs at once (callers and
agents) and watch who talks to whom. Each rule modelled cites the doc it comes
from, in leg.py, rooms.py and rest.py.
"""
from qa.twilio_sim.account import ACCOUNT_SID, Twilio
from qa.twilio_sim.heard import CallError, Heard
from qa.twilio_sim.leg import Leg
from qa.twilio_sim.softphone import Softphone

__all__ = ["ACCOUNT_SID", "CallError", "Heard", "Leg", "Softphone", "Twilio"]
