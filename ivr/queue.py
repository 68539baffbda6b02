"""The caller's leg after a transfer: in line, with the agent, keying a NIP.

    <Enqueue> ──wait URL──▶ place in line, hold music; after MAX_QUEUE_MINUTES <Leave>
       │ action (left)       ▶ hung up / left the line (call-back offer) / moved by REST
       │ dequeued by CallSid when the agent's softphone comes on (ivr/agent_leg.py)
       ▼
    bridge ──▶ <Dial><Conference> named after the hand-off (hold: until the agent is in)
       │ redirected by the desk ──▶ verify ──▶ verify-nip ──▶ back to the same conference
       ▼ the conference ends (agent hung up or wrapped up) ──▶ after-agent: goodbye

Every route answers TwiML Twilio can follow, even when the hand-off is no
longer what the request expected (an agent wrapped up, the caller moved on):
never a 404 that Twilio would play as an application error.
"""
from __future__ import annotations

import structlog
from flask import request
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from banking_core import errors
from banking_core.digits import int_or_none, parse_int
from banking_core.handoffs import HandoffRequest
from ivr import twiml
from ivr.runtime import call_sid, caller, runtime, speaker, url
from ivr.transfer import enqueue, handoff_request, offer_callback
from ivr.blueprint import bp

log = structlog.get_logger("ivr")
# Twilio's <Enqueue> action says why the caller left the line. These mean the
# call is now running other TwiML (ours, by REST): Twilio ignores what we answer.
MOVED_ON = {"redirected", "redirected-from-bridged", "bridged", "bridging-in-process"}
# A taken call's caller waits this much longer: the agent's phone is on its way.
TAKEN_GRACE_SECONDS = 120


def reply(response: VoiceResponse):
    return twiml.twiml_response(str(response))


def hold_music(response: VoiceResponse) -> None:
    response.play(runtime().settings.hold_music_url)


# ---- in line ----------------------------------------------------------------
@bp.post("/queue/wait")
def queue_wait():
    """Twilio plays this to the caller in a loop while they wait in line. Its
    first request is Twilio's word that the caller is really in line."""
    ivr, sid = runtime(), call_sid()
    response = VoiceResponse()
    place, taken = None, False
    try:
        ivr.bank.caller_enqueued(sid, request.form.get("QueueSid", "")[:34], caller=caller())
        place = ivr.bank.place_in_line(sid)
        taken = place is None
    except Exception as exc:  # noqa: BLE001 - a wait document must still come back
        log.error("queue_wait_unrecorded", call=sid, error=type(exc).__name__)
        position = request.form.get("QueuePosition", "")
        place = int_or_none(position, max_length=9)
    waited = int_or_none(request.form.get("QueueTime", "0"), max_length=9)
    limit = ivr.settings.max_queue_minutes * 60 + (TAKEN_GRACE_SECONDS if taken else 0)
    if waited is not None and waited >= limit:
        speaker().say(response, "queue_too_long")
        response.leave()  # to the Enqueue's action, which offers a call back
        return reply(response)
    if taken:
        speaker().say(response, "queue_taken")
    elif place == 1:
        speaker().say(response, "queue_next")
    elif place:
        speaker().say(response, "queue_position", {"position": place})
    hold_music(response)
    return reply(response)


@bp.post("/queue/left")
def queue_left():
    """The caller left the line: hung up, was let go after the longest wait, or
    was moved out by REST (to an agent or to key a NIP)."""
    ivr, sid = runtime(), call_sid()
    result = request.form.get("QueueResult", "")
    response = VoiceResponse()
    if result in MOVED_ON:
        return reply(response)
    if result == "hangup":
        ivr.bank.caller_gone(sid)
        return reply(response)
    # leave (our <Leave> after MAX_QUEUE_MINUTES), queue-full, error, system-error:
    # out of the line, the caller chooses a call-back or to end the call.
    ivr.bank.caller_out_of_line(sid)
    if result != "leave":
        log.warning("queue_left_unexpectedly", call=sid, result=result)
        speaker().say(response, "queue_too_long")
    offer_callback(response, caller())
    return reply(response)


@bp.post("/queue/callback")
def queue_callback():
    ivr, sid = runtime(), call_sid()
    response = VoiceResponse()
    number = caller()
    wants = request.args.get("ev") != "noinput" and request.form.get("Digits") == "1"
    try:
        if wants and number is not None:
            if ivr.bank.find_handoff_by_call(sid) is None:  # closed hours: none yet
                state = ivr.store.load(sid)
                ivr.bank.open_handoff(
                    handoff_request(state, "callback") if state is not None
                    else HandoffRequest(call_sid=sid, reason="callback", caller=number))
            ivr.bank.caller_gone(sid, callback=True)
            speaker().say(response, "callback_registered", {"last4": number[-4:]})
            log.info("callback_requested", call=sid)
        else:
            ivr.bank.caller_gone(sid)  # declined: the call in line is abandoned
    except Exception as exc:  # noqa: BLE001 - never offer again what cannot be recorded
        log.error("callback_not_recorded", call=sid, error=type(exc).__name__)
        speaker().say(response, "callback_failed")
    speaker().say(response, "goodbye")
    response.hangup()
    return reply(response)


# ---- with the agent -----------------------------------------------------------
def _handoff():
    """The hand-off a route names (?h=…), only if it is this call's."""
    return runtime().bank.handoff_for_call(request.args.get("h", type=parse_int), call_sid())


def conference_twiml(response: VoiceResponse, handoff) -> None:
    """The caller into the hand-off's conference: it waits there (hold) until
    the agent is in; when the conference ends, `after-agent` says goodbye."""
    dial = Dial(action=url(f"/ivr/queue/after-agent?h={handoff.id}"), method="POST")
    dial.conference(handoff.conference_name, **conference_options(handoff),
                    start_conference_on_enter=False, end_conference_on_exit=False,
                    wait_url=url(f"/ivr/queue/hold?h={handoff.id}"), wait_method="POST")
    response.append(dial)


def conference_options(handoff) -> dict:
    # Twilio keeps the status callback of whoever joins first: both legs name it.
    return dict(beep=False, status_callback=url(f"/ivr/conference/events?h={handoff.id}"),
                status_callback_event="start end join leave", status_callback_method="POST")


def back_in_line(response: VoiceResponse, handoff) -> None:
    """The agent's leg is gone: the caller goes back in line, first among the
    waiting, for the next agent."""
    runtime().bank.caller_back_in_line(handoff.id)
    speaker().say(response, "queue_back")
    enqueue(response)


def goodbye(response: VoiceResponse, prompt: str | None = None) -> None:
    if prompt:
        speaker().say(response, prompt)
    speaker().say(response, "goodbye")
    response.hangup()


@bp.post("/queue/bridge")
def queue_bridge():
    """The agent's softphone dequeued this caller (by CallSid) to here."""
    handoff = _handoff()
    response = VoiceResponse()
    if handoff is None:
        goodbye(response, "agent_gone")
        return reply(response)
    try:
        handoff = runtime().bank.caller_to_agent(handoff.id, handoff.call_sid)
    except errors.HandoffUnavailable:  # released or closed meanwhile
        back_in_line(response, handoff)
        return reply(response)
    speaker().say(response, "connecting_agent")
    conference_twiml(response, handoff)
    return reply(response)


@bp.post("/queue/hold")
def queue_hold():
    """The conference's wait URL: the caller waits here until the agent's leg
    joins. Twilio does not loop a conference's wait URL, so the document
    redirects to itself; each round checks that an agent is still coming, and
    otherwise moves the caller back in line (by REST: nothing in a wait URL can
    leave a conference)."""
    ivr = runtime()
    handoff = _handoff()
    round_ = request.args.get("n", 0, type=parse_int)
    response = VoiceResponse()
    if round_ == 0:
        speaker().say(response, "hold_agent")
    if (handoff is not None and round_ > 0 and handoff.caller_at == "agent"
            and (handoff.status != "taken" or handoff.agent_call_sid is None)):
        try:
            if handoff.status == "taken":
                ivr.bank.caller_back_in_line(handoff.id)
            ivr.call_control.redirect(handoff.call_sid, url(f"/ivr/queue/requeue?h={handoff.id}"))
            log.warning("caller_left_without_agent", call=handoff.call_sid, handoff=handoff.id)
        except Exception as exc:  # noqa: BLE001 - the next round tries again
            log.error("caller_not_requeued", handoff=handoff.id, error=type(exc).__name__)
    hold_music(response)
    if handoff is not None:
        response.redirect(url(f"/ivr/queue/hold?h={handoff.id}&n={round_ + 1}"), method="POST")
    return reply(response)


@bp.post("/queue/requeue")
def queue_requeue():
    """Moved here (by REST) from a conference no agent will join."""
    handoff = _handoff()
    response = VoiceResponse()
    if handoff is None or handoff.status in ("completed", "abandoned", "callback"):
        goodbye(response, "agent_gone")
        return reply(response)
    speaker().say(response, "queue_back")
    enqueue(response)
    return reply(response)


@bp.post("/queue/after-agent")
def queue_after_agent():
    """The caller's conference <Dial> ended. Twilio also calls this when the
    caller was moved out by REST (to key a NIP, or back in line), and then
    ignores what we answer."""
    handoff = _handoff()
    response = VoiceResponse()
    if handoff is not None and handoff.caller_at in ("verifying", "ivr", "queue"):
        return reply(response)
    if request.form.get("DialCallStatus") == "failed" and handoff is not None \
            and handoff.status == "taken":
        back_in_line(response, handoff)  # the conference could not be set up
        return reply(response)
    goodbye(response)
    return reply(response)


# ---- verifying a caller for the agent -------------------------------------------
def back_to_agent(response: VoiceResponse, handoff) -> None:
    """After the NIP: to the same conference, where the agent waits on hold;
    if the agent's leg is gone, back in line; if the call was closed, goodbye."""
    if handoff.status != "taken":
        goodbye(response, "agent_gone")
        return
    if handoff.agent_call_sid is None:
        back_in_line(response, handoff)
        return
    try:
        handoff = runtime().bank.caller_to_agent(handoff.id, handoff.call_sid)
    except errors.HandoffUnavailable:
        goodbye(response, "agent_gone")
        return
    conference_twiml(response, handoff)


@bp.post("/queue/verify")
def queue_verify():
    """The desk moved the caller's leg here: key the NIP for the agent."""
    handoff = _handoff()
    response = VoiceResponse()
    if handoff is None:
        goodbye(response, "agent_gone")
        return reply(response)
    if handoff.verify_method is None or handoff.status != "taken":
        back_to_agent(response, handoff)
        return reply(response)
    action = url(f"/ivr/queue/verify-nip?h={handoff.id}")
    gather = Gather(input="dtmf", num_digits=4, finish_on_key="#", timeout=8, method="POST",
                    action=action)
    reader = speaker().catalog().reader  # the call's language
    speaker().say(gather, "verify_nip", {"method": reader.credential(handoff.verify_method),
                                         "last4": handoff.verify_last4})
    response.append(gather)
    response.redirect(action, method="POST")
    return reply(response)


@bp.post("/queue/verify-nip")
def queue_verify_nip():
    handoff = _handoff()
    response = VoiceResponse()
    if handoff is None:
        goodbye(response, "agent_gone")
        return reply(response)
    nip = request.form.get("Digits", "")
    if not nip:  # silence is not a wrong NIP: nothing counts against the credential
        speaker().say(response, "no_input")
    elif handoff.status != "taken":
        speaker().say(response, "verify_not_checked")
    else:
        try:
            runtime().bank.verify_handoff_caller(handoff.id, nip)
            speaker().say(response, "verify_ok")
        except errors.CredentialBlocked:
            speaker().say(response, "verify_blocked")
        except (errors.InvalidCredentials, errors.MalformedCredential,
                errors.HandoffUnavailable):
            speaker().say(response, "verify_failed")
    back_to_agent(response, runtime().bank.handoff_for_call(handoff.id, handoff.call_sid))
    return reply(response)
