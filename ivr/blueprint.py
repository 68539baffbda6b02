"""The IVR's one blueprint: every route under /ivr/ is a Twilio webhook, so
every request is checked against its Twilio signature before anything runs,
and anything unexpected is answered with TwiML Twilio can follow (never its
canned "application error")."""
from __future__ import annotations

import structlog
from flask import Blueprint, abort, request
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from ivr import twiml
from ivr.runtime import caller, public_url, runtime, speaker
from banking_core.handoffs import HandoffRequest
from ivr.transfer import transfer_twiml
from web import metrics

bp = Blueprint("ivr", __name__, url_prefix="/ivr")
log = structlog.get_logger("ivr")


@bp.before_request
def check_signature():
    req, ivr = request._get_current_object(), runtime()  # each looked up once
    signature = req.headers.get("X-Twilio-Signature", "")
    if not signature or not ivr.signatures.signed(public_url(req, ivr), req.form, signature):
        log.warning("ivr_forbidden", path=req.path, reason="bad signature")
        abort(403)


@bp.errorhandler(Exception)
def technical_problem(exc):
    """Anything unexpected: each kind of request gets what Twilio allows there.
    A caller's turn hears an apology and goes to an agent through the one
    transfer path (the call's state is not saved, so a retry of the turn runs
    it again; money is safe either way: payments are idempotent). A wait
    document may only keep the caller waiting: hold music. The agent's leg
    hears that it could not be connected. A callback gets a 500."""
    if isinstance(exc, HTTPException):
        return exc
    endpoint = request.endpoint or ""
    log.error("ivr_turn_failed", path=request.path, call=request.form.get("CallSid"),
              error=type(exc).__name__)
    metrics.webhook_failed(endpoint)
    response = VoiceResponse()
    if endpoint in ("ivr.queue_wait", "ivr.queue_hold"):
        response.play(runtime().settings.hold_music_url)
    elif endpoint.startswith("ivr.agent_"):
        speaker().say(response, "agent_connect_failed")
        response.hangup()
    elif endpoint in ("ivr.status", "ivr.conference_events"):
        return ("", 500)
    else:
        text = speaker().words("technical_problem")  # in the call's language
        xml, _ = transfer_twiml(HandoffRequest(call_sid=request.form.get("CallSid", ""),
                                               reason="technical_problem", caller=caller()),
                                says=(text,))
        return twiml.twiml_response(xml)
    return twiml.twiml_response(str(response))
