"""The hand-off to the agents, on the caller's side of the call.

A transfer opens a hand-off in the core (the screen pop's context) and answers
`<Enqueue>` into AGENT_QUEUE with a wait URL (the caller's place in line, then
hold music) and an action URL (what happens when the caller leaves the queue).
Outside AGENT_HOURS, or after MAX_QUEUE_MINUTES in line, the caller is told and
offered a call back, never left waiting forever. An agent who must verify a
caller who never logged in sends the caller's leg to `verify`, where the caller
keys the NIP (the agent never hears it) and is then put back through to that
agent's softphone.

These routes hang off the webhooks' blueprint, so every request is checked
against its Twilio signature like any other turn.
"""
from __future__ import annotations

import json

import structlog
from flask import abort, request
from twilio.twiml.voice_response import Gather, VoiceResponse

from banking_core import errors
from banking_core.handoffs import KEYED_FIELDS, HandoffRequest
from config.hours import Hours
from ivr import twiml
from ivr.webhooks import _call_sid, _caller, _runtime, bp

log = structlog.get_logger("ivr")
DAY_NAMES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")


def _url(path: str) -> str:
    return _runtime().settings.public_base_url + path


def _speak(verb, text) -> None:
    """Say `text` as every reply does: Twilio's voice, or our recordings in play mode."""
    runtime = _runtime()
    if runtime.player is not None:
        runtime.player.speak(verb, text, language=runtime.language, voice=runtime.voice)
    else:
        verb.say(text, language=runtime.language, voice=runtime.voice)


def _say(verb, key: str, values: dict | None = None) -> None:
    _speak(verb, _runtime().interpreter.prompts.render(key, values or {}))


def say_hours(hours: Hours) -> str:
    """'mon-fri 08:00-20:00; sat 09:00-14:00' → 'de lunes a viernes de 08:00 a 20:00
    horas y sábado de 09:00 a 14:00 horas'."""
    parts = []
    for span in hours.spans:
        day_words = (DAY_NAMES[span.first_day] if span.first_day == span.last_day else
                     f"de {DAY_NAMES[span.first_day]} a {DAY_NAMES[span.last_day]}")
        parts.append(f"{day_words} de {span.start} a {span.end} horas")
    return " y ".join(parts)


def agents_on_shift() -> bool:
    runtime = _runtime()
    bank = runtime.bank
    return runtime.agent_hours.open_at(bank.clock().astimezone(bank.policy.timezone))


# ---- the transfer itself (called by the webhooks when a reply transfers) ---
def transfer_twiml(state, reply) -> str:
    """The TwiML for a reply that sends the call to an agent, and its effect on
    the call: a hand-off opened in the core, or the closed-hours offer."""
    runtime = _runtime()
    response = VoiceResponse()
    for text in reply.says:
        _speak(response, text)
    if not agents_on_shift():
        state.ended = f"closed:{reply.transfer}"
        _say(response, "agents_closed", {"hours": say_hours(runtime.agent_hours)})
        _offer_callback(response)
        return str(response)
    principal = state.principal or {}
    handoff = runtime.bank.open_handoff(HandoffRequest(
        call_sid=state.call_sid, reason=reply.transfer, caller=state.caller,
        customer_id=principal.get("customer_id"), login_method=principal.get("method"),
        account_ids=tuple(principal.get("account_ids", ())),
        keyed={k: state.vars.get(k) for k in KEYED_FIELDS}))
    state.ended = f"transfer:{reply.transfer}"
    settings = runtime.settings
    options = dict(action=_url("/ivr/queue/left"), method="POST",
                   wait_url=_url("/ivr/queue/wait"), wait_url_method="POST")
    if settings.taskrouter_workflow_sid:
        # With TaskRouter the context rides on the call as the task's attributes;
        # Twilio takes <Task> only with a workflow, so a plain named queue gets the
        # same context from our store (the desk's screen pop) instead.
        enqueue = response.enqueue(workflow_sid=settings.taskrouter_workflow_sid, **options)
        enqueue.task(json.dumps(task_attributes(handoff), ensure_ascii=False))
    else:
        response.enqueue(settings.agent_queue, **options)
    log.info("call_transferred", call=state.call_sid, reason=reply.transfer,
             handoff=handoff.id, authenticated=handoff.verified)
    return str(response)


def task_attributes(handoff) -> dict:
    return {"handoff_id": handoff.id, "call_sid": handoff.call_sid, "reason": handoff.reason,
            "caller": handoff.caller, "customer_id": handoff.customer_id,
            "customer_name": handoff.customer_name, "login_method": handoff.login_method,
            "keyed": handoff.keyed}


def _offer_callback(response) -> None:
    gather = Gather(input="dtmf", num_digits=1, action=_url("/ivr/queue/callback"),
                    method="POST", timeout=6)
    _say(gather, "offer_callback")
    response.append(gather)
    response.redirect(_url("/ivr/queue/callback?ev=noinput"), method="POST")


# ---- while waiting, and leaving the queue ----------------------------------
@bp.post("/queue/wait")
def queue_wait():
    """Twilio plays this to the caller in a loop while they wait in line."""
    settings = _runtime().settings
    response = VoiceResponse()
    position = request.form.get("QueuePosition", "")
    waited = request.form.get("QueueTime", "0")
    if waited.isdigit() and int(waited) >= settings.max_queue_minutes * 60:
        _say(response, "queue_too_long")
        response.leave()  # to the Enqueue's action, which offers a call back
        return twiml.twiml_response(str(response))
    if position == "1":
        _say(response, "queue_next")
    elif position.isdigit():
        _say(response, "queue_position", {"position": int(position)})
    response.play(settings.hold_music_url)
    return twiml.twiml_response(str(response))


@bp.post("/queue/left")
def queue_left():
    """The caller left the queue: talked to an agent, hung up, or was let go."""
    sid = _call_sid()
    result = request.form.get("QueueResult", "")
    bank = _runtime().bank
    response = VoiceResponse()
    if result in ("bridged", "bridging-in-process", "redirected"):
        if result == "bridged":  # the agent hung up first: close politely
            _say(response, "goodbye")
            response.hangup()
        return twiml.twiml_response(str(response))
    if result == "hangup":
        bank.caller_left_queue(sid)
        return twiml.twiml_response(str(response))
    _offer_callback(response)  # leave, queue-full, error, system-error: the caller chooses
    return twiml.twiml_response(str(response))


@bp.post("/queue/callback")
def queue_callback():
    sid = _call_sid()
    runtime = _runtime()
    response = VoiceResponse()
    if request.args.get("ev") != "noinput" and request.form.get("Digits") == "1":
        caller = _caller()
        if caller is None:
            _say(response, "callback_no_number")
        else:
            if runtime.bank.find_handoff_by_call(sid) is None:  # closed hours: none yet
                state = runtime.store.load(sid)
                principal = (state.principal if state else None) or {}
                runtime.bank.open_handoff(HandoffRequest(
                    call_sid=sid, reason="callback", caller=caller,
                    customer_id=principal.get("customer_id"),
                    login_method=principal.get("method"),
                    account_ids=tuple(principal.get("account_ids", ()))))
            runtime.bank.caller_left_queue(sid, callback=True)
            _say(response, "callback_registered", {"last4": caller[-4:]})
            log.info("callback_requested", call=sid)
    else:
        runtime.bank.caller_left_queue(sid)  # declined: the waiting call is abandoned
    _say(response, "goodbye")
    response.hangup()
    return twiml.twiml_response(str(response))


# ---- verifying a caller for an agent ---------------------------------------
def _handoff_for_this_call():
    handoff_id = request.args.get("h", type=int)
    sid = _call_sid()
    handoff = _runtime().bank.find_handoff_by_call(sid)
    if handoff is None or handoff.id != handoff_id or handoff.status != "taken":
        abort(404)
    return handoff


def _back_to_agent(response, handoff) -> None:
    response.dial().client(f"agente-{handoff.agent_id}")


@bp.post("/queue/verify")
def queue_verify():
    """The desk sent the caller's leg here: key the NIP for the agent."""
    handoff = _handoff_for_this_call()
    response = VoiceResponse()
    if handoff.verify_method is None:
        _back_to_agent(response, handoff)
        return twiml.twiml_response(str(response))
    gather = Gather(input="dtmf", num_digits=4, finish_on_key="#", timeout=8, method="POST",
                    action=_url(f"/ivr/queue/verify-nip?h={handoff.id}"))
    _say(gather, "verify_nip", {
        "method": "tarjeta" if handoff.verify_method == "card" else "cuenta",
        "last4": handoff.verify_last4})
    response.append(gather)
    response.redirect(_url(f"/ivr/queue/verify-nip?h={handoff.id}"), method="POST")
    return twiml.twiml_response(str(response))


@bp.post("/queue/verify-nip")
def queue_verify_nip():
    handoff = _handoff_for_this_call()
    response = VoiceResponse()
    nip = request.form.get("Digits", "")
    if not nip:  # silence is not a wrong NIP: nothing counts against the credential
        _say(response, "no_input")
        _back_to_agent(response, handoff)
        return twiml.twiml_response(str(response))
    try:
        _runtime().bank.verify_handoff_caller(handoff.id, nip)
        _say(response, "verify_ok")
    except errors.CredentialBlocked:
        _say(response, "verify_blocked")
    except (errors.InvalidCredentials, errors.HandoffUnavailable):
        _say(response, "verify_failed")
    _back_to_agent(response, handoff)
    return twiml.twiml_response(str(response))
