"""The agent's leg: the desk's softphone calling in through the TwiML App.

The agent takes a call on the desk; the softphone (Twilio's Voice JavaScript
SDK, identity `agente_<id>`) then connects with the hand-off's id as a custom
parameter. Twilio posts that to the TwiML App's voice URL, here, signed like
every webhook, with From=client:agente_<id> (Twilio sets it from the access
token: the browser cannot choose it). If the agent holds that hand-off, the
caller is dequeued by CallSid into the hand-off's conference and the agent
joins the same conference: the agent talks to exactly the call the desk shows.
"""
from __future__ import annotations

import structlog
from flask import request
from twilio.twiml.voice_response import Dial, VoiceResponse

from banking_core import errors
from banking_core.digits import int_or_none, parse_int
from ivr.queue import conference_options, reply
from ivr.runtime import call_sid, runtime, speaker, url
from ivr.blueprint import bp
from telephony.call_control import CallControlUnavailable, CallGone

log = structlog.get_logger("ivr")


def _hang_up_with(prompt: str):
    response = VoiceResponse()
    speaker().say(response, prompt)
    response.hangup()
    return reply(response)


@bp.post("/agent/voice")
def agent_voice():
    ivr, sid = runtime(), call_sid()
    settings = ivr.settings
    caller_id = request.form.get("From", "")
    # Only our TwiML App's calls: without one configured, no softphone may join.
    app_sid = settings.twilio_twiml_app_sid
    if not app_sid or request.form.get("ApplicationSid") != app_sid:
        log.warning("agent_leg_refused", call=sid, why="not our TwiML App")
        return _hang_up_with("agent_not_allowed")
    agent = ivr.bank.agent_for_phone(caller_id.removeprefix("client:")) \
        if caller_id.startswith("client:") else None
    if agent is None:
        log.warning("agent_leg_refused", call=sid, why="not an agent's softphone")
        return _hang_up_with("agent_not_allowed")
    wanted = int_or_none(request.form.get("handoff", ""), max_length=9)
    if wanted is None:  # a softphone that names no call means the call the agent holds now
        current = ivr.bank.current_handoff(agent)
        wanted = current.id if current else None
    if wanted is None:
        return _hang_up_with("agent_no_call")
    try:
        handoff = ivr.bank.agent_may_join(agent, wanted)
    except errors.HandoffUnavailable:
        return _hang_up_with("agent_no_call")
    except errors.CallerGone:
        return _hang_up_with("agent_caller_gone")
    if handoff.caller_at == "ivr":  # left the line, choosing whether to be called back
        return _hang_up_with("agent_caller_not_in_line")
    if handoff.caller_at == "queue":
        try:
            ivr.call_control.dequeue(handoff.queue_sid or "", handoff.call_sid,
                                     url(f"/ivr/queue/bridge?h={handoff.id}"))
        except CallGone:
            ivr.bank.caller_gone(handoff.call_sid)
            return _hang_up_with("agent_caller_gone")
        except CallControlUnavailable as exc:
            log.error("caller_not_dequeued", handoff=handoff.id, error=str(exc))
            return _hang_up_with("agent_connect_failed")
    ivr.bank.agent_leg_joined(agent, handoff.id, sid)
    log.info("agent_leg_connected", handoff=handoff.id, agent=agent.id, caller_at=handoff.caller_at)
    response = VoiceResponse()
    dial = Dial(action=url(f"/ivr/agent/ended?h={handoff.id}"), method="POST")
    dial.conference(handoff.conference_name, **conference_options(handoff),
                    start_conference_on_enter=True, end_conference_on_exit=True, wait_url="")
    response.append(dial)
    return reply(response)


@bp.post("/agent/ended")
def agent_ended():
    """The agent's conference <Dial> ended with the agent still on the line:
    the caller left, or the call was closed."""
    if request.form.get("DialCallStatus") == "failed":
        return _hang_up_with("agent_connect_failed")
    return _hang_up_with("agent_call_ended")


@bp.post("/conference/events")
def conference_events():
    """Twilio's reports on a hand-off's conference. When the caller comes back
    from keying the NIP, the agent (held with music meanwhile) is let back in."""
    ivr = runtime()
    handoff_id = request.args.get("h", type=parse_int)
    event = request.form.get("StatusCallbackEvent", "")
    joined = request.form.get("CallSid", "")
    if handoff_id is None:
        return ("", 204)
    handoff = ivr.bank.conference_event(
        handoff_id, conference_sid=request.form.get("ConferenceSid", "")[:34], event=event,
        call_sid=joined or None)
    if (handoff is not None and event == "participant-join" and joined == handoff.call_sid
            and handoff.agent_on_hold and handoff.agent_call_sid and handoff.conference_sid):
        try:
            ivr.call_control.hold(handoff.conference_sid, handoff.agent_call_sid, on_hold=False)
            ivr.bank.agent_held(handoff.id, False)
        except (CallGone, CallControlUnavailable) as exc:
            log.error("agent_not_unheld", handoff=handoff.id, error=str(exc))
    return ("", 204)
