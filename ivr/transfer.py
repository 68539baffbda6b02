"""Every transfer to an agent, whatever its reason, goes this one way.

An alphanumeric reference, `0`, too many attempts, a blocked credential, an
ambiguous account, a technical problem: each records a hand-off for the desk
(the screen pop), tells the caller ("Le transferimos con un ejecutivo", after
whatever the menu said about why), and answers `<Enqueue>` into AGENT_QUEUE
with a wait URL (the place in line, hold music, MAX_QUEUE_MINUTES) and an
action URL (what happens when the caller leaves the line). Outside AGENT_HOURS
the caller hears the hours and, with a number we can call back, is offered a
call-back; nobody waits in a line no agent will answer.

The hand-off is "waiting" for the desk only once Twilio has run the <Enqueue>
(the wait URL's first request): see banking_core/handoffs.py.
"""
from __future__ import annotations

import structlog
from twilio.twiml.voice_response import Gather, VoiceResponse

from banking_core.handoffs import KEYED_FIELDS, HandoffRequest
from ivr.runtime import runtime, speaker, url

log = structlog.get_logger("ivr")


def handoff_request(state, reason: str) -> HandoffRequest:
    """The hand-off of a call whose state we have: who logged in and how, and
    what was keyed (only the fields the agent may see)."""
    principal = state.principal or {}
    return HandoffRequest(
        call_sid=state.call_sid, reason=reason, caller=state.caller,
        customer_id=principal.get("customer_id"), login_method=principal.get("method"),
        account_ids=tuple(principal.get("account_ids", ())),
        keyed={k: v for k, v in state.readable().items() if k in KEYED_FIELDS})


def agents_on_shift() -> bool:
    ivr = runtime()
    bank = ivr.bank
    return ivr.agent_hours.open_at(bank.clock().astimezone(bank.policy.timezone))


def transfer_twiml(transfer: HandoffRequest, says=()) -> tuple[str, str]:
    """The TwiML that sends the call to the agents after saying `says`, and how
    the IVR's part of the call ended ("transfer:<reason>" or "closed:<reason>")."""
    ivr = runtime()
    response = VoiceResponse()
    if not agents_on_shift():
        # Said before anything promises an agent: the caller hears the hours,
        # then a call-back offer or goodbye, never "we are transferring you".
        reader = speaker().catalog().reader  # the call's language
        closed = speaker().words("agents_closed", {"hours": reader.hours(ivr.agent_hours)})
        speaker().speak_turn(response, (*says, closed))  # one voice for the turn
        offer_callback(response, transfer.caller)
        log.info("call_not_transferred", call=transfer.call_sid, reason=transfer.reason,
                 why="outside agent hours")
        return str(response), f"closed:{transfer.reason}"
    speaker().speak_turn(response, says)
    try:
        ivr.bank.open_handoff(transfer)
    except Exception as exc:  # noqa: BLE001 - the caller still reaches an agent
        # The database may be why we are transferring at all. The wait URL
        # records the call (as a technical problem) once the database answers.
        log.error("handoff_not_recorded", call=transfer.call_sid, error=type(exc).__name__)
    speaker().say(response, "transfer_agent")
    enqueue(response)
    log.info("call_transferred", call=transfer.call_sid, reason=transfer.reason,
             authenticated=transfer.customer_id is not None)
    return str(response), f"transfer:{transfer.reason}"


def enqueue(response: VoiceResponse) -> None:
    """Into the agents' line: the wait URL keeps the caller company (and tells
    the desk the caller is really there), the action says what comes after."""
    response.enqueue(runtime().settings.agent_queue, action=url("/ivr/queue/left"),
                     method="POST", wait_url=url("/ivr/queue/wait"), wait_url_method="POST")


def offer_callback(response: VoiceResponse, caller: str | None) -> None:
    """Offer a call-back, or, when the number is withheld, say when to call."""
    if caller is None:
        speaker().say(response, "callback_no_number")
        speaker().say(response, "goodbye")
        response.hangup()
        return
    gather = Gather(input="dtmf", num_digits=1, action=url("/ivr/queue/callback"),
                    method="POST", timeout=6)
    speaker().say(gather, "offer_callback")
    response.append(gather)
    response.redirect(url("/ivr/queue/callback?ev=noinput"), method="POST")
