"""The agent's softphone: a page that stays open in its own window, running
Twilio's Voice JavaScript SDK (vendored by `make`, served from here, never from
a CDN), the access tokens it registers with, and what it should do now.

The desk's other pages navigate, and navigating would cut a WebRTC call: so the
phone lives on one page that never navigates, and learns from `estado.json`
which call its agent has taken."""
from __future__ import annotations

from pathlib import Path

import structlog
from flask import current_app, g, jsonify, render_template, send_from_directory
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from agent_desk.views import agent_required, bp
from web.headers import content_security_policy

log = structlog.get_logger("agent_desk.phone")
STATIC = Path(__file__).resolve().parent / "static"
VOICE_SDK = "vendor/twilio.min.js"  # put there by `make` (see the Makefile)
# Short-lived: a token left in a closed laptop's memory is soon worthless; the
# SDK warns before it expires and the page fetches the next one.
TOKEN_TTL_SECONDS = 600
POLL_SECONDS = 2  # how often the phone asks estado.json (and at once on a desk message)
# Unregistered this long, the phone says Twilio does not answer (the SDK itself
# retries a signalling socket that opens and drops without raising an error).
PATIENCE_SECONDS = 10
# Only this page runs the SDK, so only it may reach Twilio, and only the hosts
# the vendored SDK (2.x, lib/twilio/regions.ts and constants.ts) opens:
# signalling at wss://voice-js.<edge>.twilio.com/signal (the default edge
# "roaming", then whichever edge Twilio's answer names), call-quality events at
# https://eventgw.twilio.com, then eventgw.<home region>.twilio.com once Twilio
# names the home region, and the ringtone and other sounds under
# https://sdk.twilio.com (fetched with XHR into an AudioContext, or played by an
# <audio> element where there is none). The interconnect edges and regions
# ("-ix", "-tnx") are only reached when a Device is configured for them; ours
# is not. The call's audio itself is WebRTC, which CSP does not govern.
# tests/security/test_headers.py checks these lists against the vendored SDK.
TWILIO_EDGES = ("roaming", "ashburn", "dublin", "frankfurt", "sao-paulo", "singapore",
                "sydney", "tokyo", "umatilla")
TWILIO_REGIONS = ("au1", "br1", "de1", "gll", "ie1", "jp1", "sg1", "us1", "us2")
TWILIO_SOUNDS = "https://sdk.twilio.com"
CONTENT_SECURITY_POLICY = content_security_policy({
    "connect-src": (*(f"wss://voice-js.{edge}.twilio.com" for edge in TWILIO_EDGES),
                    "https://eventgw.twilio.com",
                    *(f"https://eventgw.{region}.twilio.com" for region in TWILIO_REGIONS),
                    TWILIO_SOUNDS),
    # blob: for browsers that play the remote stream through an object URL.
    "media-src": ("blob:", TWILIO_SOUNDS),
})


@bp.get("/static/<path:filename>", endpoint="static")
def static(filename):
    # The desk's own scripts and the vendored SDK: public code, like any page's.
    return send_from_directory(STATIC, filename)


@bp.get("/telefono")
@agent_required
def phone():
    settings = current_app.extensions["settings"]
    response = current_app.make_response(render_template(
        "desk/phone.html", configured=settings.softphone_configured,
        sdk_installed=(STATIC / VOICE_SDK).is_file(), poll_seconds=POLL_SECONDS,
        patience_seconds=PATIENCE_SECONDS))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@bp.post("/telefono/token.json")
@agent_required
def phone_token():
    """An access token for this agent's browser phone (CSRF-checked like any
    POST: the page sends X-CSRFToken). The token itself is never logged."""
    settings = current_app.extensions["settings"]
    if not settings.softphone_configured:
        return jsonify(error="softphone_not_configured"), 503
    name = g.agent.phone_identity
    token = AccessToken(settings.twilio_account_sid, settings.twilio_api_key,
                        settings.twilio_api_secret, identity=name, ttl=TOKEN_TTL_SECONDS)
    token.add_grant(VoiceGrant(outgoing_application_sid=settings.twilio_twiml_app_sid,
                               incoming_allow=True))
    log.info("phone_token_issued", agent=g.agent.id, identity=name)
    return jsonify(token=token.to_jwt(), identity=name, ttl_seconds=TOKEN_TTL_SECONDS)


@bp.get("/telefono/estado.json")
@agent_required
def phone_state():
    """The call this agent has taken and not wrapped up (the newest if several)
    and where its caller is, so the phone knows when to connect."""
    handoff = current_app.extensions["bank"].current_handoff(g.agent)
    if handoff is None:
        return jsonify(handoff=None, caller_at=None, caller=None, customer=None)
    return jsonify(handoff=handoff.id, caller_at=handoff.caller_at,
                   caller=handoff.caller or "número oculto",
                   customer=handoff.customer_name or "sin identificar")
