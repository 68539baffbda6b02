"""A turn that finds its call's state gone: lost, not a new call, never a hang-up.

Twilio asks for the voice URL (`/ivr/voice`) once, to start a call; every later
turn comes back to a URL of ours, `/ivr/step?t=N`, which only a call we
answered can have. So a step that finds no state is a call whose state was lost
(Redis flushed or restarted, the state expired), and its caller is in the
middle of something. They hear a short apology and whether anything was paid,
then go to an agent through the one transfer path, as `state_lost`; outside
agent hours, the agents' hours and goodbye instead of a line nobody answers.

Whether anything was paid is the bank's to say, not ours: every payment of a
call carries an idempotency key that begins with the call's prefix
(ivr/operations.py), so the payments found under it are exactly those that
posted, whether the state went before or after the caller's final "1".
The call's record (ivr/call_end.py) then says `state_lost`, with those folios.
"""
from __future__ import annotations

import structlog
from twilio.twiml.voice_response import VoiceResponse

from config.logging import redact_value
from ivr.languages import remember
from ivr.operations import call_payments_prefix
from ivr.runtime import caller, runtime, speaker
from ivr.state import CallState
from ivr.transfer import agents_on_shift, handoff_request, transfer_twiml

log = structlog.get_logger("ivr")
STATE_LOST = "state_lost"  # the hand-off's reason and the call record's outcome


def answer_lost_state(call_sid: str, turn: int, key: str) -> tuple[CallState, str]:
    """The state that now stands for the call (its end already decided, so
    the status callback records it) and the TwiML the caller hears."""
    ivr = runtime()
    folios = ivr.bank.folios_by_key_prefix(call_payments_prefix(call_sid))
    log.error("ivr_state_lost", call=call_sid, turn=turn, paid=len(folios))
    # The call's language went with its state: the line's own from here on.
    state = CallState(call_sid=call_sid, caller=caller(), language=ivr.language, turn=turn)
    remember(state)
    if folios:
        state.set("call_folios", folios)
    says = (speaker().words("state_lost"),
            speaker().words("state_lost_paid" if folios else "state_lost_not_paid"))
    if agents_on_shift():
        xml, state.ended = transfer_twiml(handoff_request(state, STATE_LOST), says)
    else:
        xml, state.ended = _goodbye(says), f"closed:{STATE_LOST}"
    state.turn += 1
    state.last_reply = {"key": key, "twiml": xml}  # a duplicate delivery hears it again
    # What was keyed is not recorded: with the node unknown, it may be a NIP.
    state.recording = [{"turn": state.turn, "says": [redact_value(str(t)) for t in says],
                        "visited": [], "at": "", "end": state.ended, STATE_LOST: True}]
    return state, xml


def _goodbye(says) -> str:
    """Outside agent hours: the apology, what was paid or not, when agents
    answer, and goodbye. No call-back is offered: the state that would tell
    the agent what the caller was doing is gone."""
    reader = speaker().catalog().reader
    response = VoiceResponse()
    speaker().speak_turn(response, (
        *says, speaker().words("agents_closed", {"hours": reader.hours(runtime().agent_hours)}),
        speaker().words("goodbye")))
    response.hangup()
    return str(response)
