"""Twilio's webhooks: each turn of a call is a signed form POST answered with TwiML.

`POST /ivr/voice` is the URL a Twilio number is configured with; the gathers
and redirects come back to `POST /ivr/step?t=N`, N being the turn they answer;
`POST /ivr/status` is the status callback. A request whose signature does not
match gets 403 and touches nothing. A turn delivered twice gets the first
answer again and runs nothing twice.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import re
import time

import phonenumbers
import structlog
from flask import Blueprint, abort, current_app, request
from twilio.request_validator import RequestValidator

from banking_core.calls import CallEnd
from banking_core.call_transcripts import save_transcript
from config import ConfigError
from config.hours import Hours, parse_hours
from ivr import recording, twiml
from ivr.audio import pieces
from ivr.audio import web as audio_web
from ivr.audio.manifest import ManifestError
from ivr.audio.player import Player
from ivr.interpreter import Event, Interpreter, Reply
from ivr.menu_schema import MENU_DIR, load_menu
from ivr.operations import OPERATIONS, Services
from ivr.prompts import load_prompts
from ivr.state import CallState, Sealer, store_from_settings

bp = Blueprint("ivr", __name__, url_prefix="/ivr")
log = structlog.get_logger("ivr")
CALL_SID = re.compile(r"^CA[0-9a-fA-F]{32}$")
MENU_FILE = MENU_DIR / "linea_directa.yaml"


@dataclasses.dataclass
class IvrRuntime:
    interpreter: Interpreter
    store: object
    bank: object
    validator: RequestValidator
    settings: object
    language: str
    voice: str
    player: Player | None = None  # play mode: our recordings instead of <Say>
    agent_hours: Hours | None = None  # AGENT_HOURS, parsed once


def init_app(app, *, store=None) -> None:
    settings = app.extensions["settings"]
    prompts = load_prompts(settings.ivr_language)
    menu = load_menu(MENU_FILE, prompts=prompts.keys(), operations=set(OPERATIONS))
    sealer = Sealer(settings.secret_key)
    app.extensions["ivr"] = IvrRuntime(
        interpreter=Interpreter(menu=menu, prompts=prompts, operations=OPERATIONS,
                                sealer=sealer,
                                services=Services(bank=app.extensions["bank"], prompts=prompts)),
        store=store or store_from_settings(settings),
        bank=app.extensions["bank"],
        validator=RequestValidator(settings.twilio_auth_token),
        settings=settings, language=prompts.language,
        voice=settings.ivr_voice or prompts.voice,
        player=_player(app, prompts) if settings.ivr_prompt_mode == "play" else None,
        agent_hours=parse_hours(settings.agent_hours),
    )
    from ivr import queue  # noqa: F401  (its routes hang off this blueprint)
    app.register_blueprint(bp)


def _player(app, prompts) -> Player:
    """Play mode starts only with every prompt recorded, as a bad menu file
    stops the app: a missing recording would otherwise surface mid-call."""
    settings = app.extensions["settings"]
    try:
        library = audio_web.load_library(app, prompts.language)
    except ManifestError as exc:
        raise ConfigError(f"IVR_PROMPT_MODE: play needs recordings: {exc}") from None
    missing = library.missing(pieces.recordings(prompts))
    if missing:
        raise ConfigError(f"IVR_PROMPT_MODE: play needs recordings: {len(missing)} missing in "
                          f"{library.directory}, e.g. {missing[0]!r} (run `ivr audio build`)")
    return Player(library, base_url=settings.public_base_url)


def _runtime() -> IvrRuntime:
    return current_app.extensions["ivr"]


def public_url() -> str:
    """The URL Twilio signed: our configured public base, never the Host header
    or X-Forwarded-* (a proxy in front rewrites those)."""
    query = request.query_string.decode()
    return _runtime().settings.public_base_url + request.path + (f"?{query}" if query else "")


@bp.before_request
def check_signature():
    runtime = _runtime()
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not _signed_by_twilio(runtime.validator, public_url(), signature):
        log.warning("ivr_forbidden", path=request.path, reason="bad signature")
        abort(403)


def _signed_by_twilio(validator: RequestValidator, url: str, signature: str) -> bool:
    """Twilio signs the URL as configured, so one HMAC over exactly that URL
    settles nearly every request; only a mismatch pays for the validator's
    full check, which also tries the URL with and without its port."""
    expected = validator.compute_signature(url, request.form)
    if hmac.compare_digest(expected.encode(), signature.encode()):
        return True
    return validator.validate(url, request.form, signature)


def _caller() -> str | None:
    raw = request.form.get("From", "")
    try:
        number = phonenumbers.parse(raw, "MX")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _call_sid() -> str:
    sid = request.form.get("CallSid", "")
    if not CALL_SID.match(sid):
        abort(400, "CallSid missing or malformed")
    return sid


def _request_key(turn) -> str:
    # What identifies a delivery of a turn: the same key twice is a duplicate.
    raw = f"{request.path}|{turn}|{request.form.get('Digits', '')}|{request.args.get('ev', '')}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _answer(state: CallState, reply, key: str) -> str:
    runtime = _runtime()
    state.turn += 1
    base = runtime.settings.public_base_url
    if reply.transfer:
        from ivr import queue
        xml = queue.transfer_twiml(state, reply)  # sets state.ended
    else:
        xml = twiml.render(
            reply, action_url=f"{base}/ivr/step?t={state.turn}",
            no_input_url=f"{base}/ivr/step?t={state.turn}&ev=noinput",
            language=runtime.language, voice=runtime.voice, queue=runtime.settings.agent_queue,
            player=runtime.player)
    state.last_reply = {"key": key, "twiml": xml}
    if reply.hangup:
        state.ended = "hangup"
    return xml


@bp.post("/voice")
def voice():
    runtime, started = _runtime(), time.perf_counter()
    sid = _call_sid()
    key = _request_key(0)
    with runtime.store.hold(sid) as slot:
        if slot.state is not None:  # a duplicated first request: the same answer
            return twiml.twiml_response(slot.state.last_reply["twiml"])
        state = CallState(call_sid=sid, caller=_caller())
        reply = runtime.interpreter.start(state)
        xml = _answer(state, reply, key)
        recording.record_turn(state, runtime.interpreter.menu, event=Event("start"),
                              input_node=None, reply=reply)
        slot.save(state)
    _log_turn(state, "start", started)
    return twiml.twiml_response(xml)


@bp.post("/step")
def step():
    runtime, started = _runtime(), time.perf_counter()
    sid = _call_sid()
    turn = request.args.get("t", type=int)
    if turn is None:
        abort(400, "turn missing")
    no_input = request.args.get("ev") == "noinput"
    digits = request.form.get("Digits", "")
    if not no_input and (len(digits) > 40 or not re.fullmatch(r"[0-9*#]*", digits)):
        abort(400, "Digits malformed")
    key = _request_key(turn)
    with runtime.store.hold(sid) as slot:
        state = slot.state
        if state is None:
            return twiml.twiml_response(_expired())
        if state.last_reply and state.last_reply["key"] == key:
            return twiml.twiml_response(state.last_reply["twiml"])  # duplicate delivery
        if turn != state.turn or state.ended:
            # Out of order (an old gather answering late): repeat where we are.
            return twiml.twiml_response(state.last_reply["twiml"])
        event = Event("no_input") if no_input or not digits else Event("digits", digits)
        input_node = state.node
        reply = runtime.interpreter.handle(state, event)
        xml = _answer(state, reply, key)
        recording.record_turn(state, runtime.interpreter.menu, event=event,
                              input_node=input_node, reply=reply)
        slot.save(state)
    _log_turn(state, event.kind, started)
    return twiml.twiml_response(xml)


@bp.post("/status")
def status():
    """Twilio reports the call over: its state is closed and how it ended is
    recorded (once, however often Twilio delivers this)."""
    runtime = _runtime()
    sid = _call_sid()
    call_status = request.form.get("CallStatus", "")
    if call_status in {"completed", "busy", "no-answer", "canceled", "failed"}:
        with runtime.store.hold(sid) as slot:
            state = slot.state
            turns = runtime.store.load_recording(sid) if state is not None else []
            runtime.store.delete(sid)
        end = _call_end(sid, call_status, state)
        runtime.bank.record_call_end(end)  # a repeated callback finds it recorded
        if state is not None:  # its transcript, for QA (a repeat finds no state)
            save_transcript(runtime.bank, recording.recording_of(
                state, turns, outcome=end.outcome, complete=True))
        log.info("call_ended", call=sid, status=call_status, outcome=end.outcome,
                 reason=end.transfer_reason, last_node=end.last_node, turns=end.turns,
                 duration=end.duration_seconds)
    return ("", 204)


def _call_end(sid: str, call_status: str, state: CallState | None) -> CallEnd:
    duration = request.form.get("CallDuration", "")
    common = dict(call_sid=sid, call_status=call_status,
                  duration_seconds=int(duration) if duration.isdigit() else None)
    if state is None:  # never answered by us, or its state expired
        return CallEnd(**common, outcome="caller_hung_up", caller=_caller())
    outcome, _, reason = (state.ended or "caller_hung_up").partition(":")
    principal = state.principal or {}
    return CallEnd(
        **common, outcome={"hangup": "ivr_hung_up", "transfer": "transferred",
                           "closed": "ivr_hung_up"}.get(outcome, "caller_hung_up"),
        transfer_reason=reason or None, caller=state.caller,
        customer_id=principal.get("customer_id"), login_method=principal.get("method"),
        started_at=dt.datetime.fromtimestamp(state.started_at, dt.timezone.utc),
        last_node=state.node or None, turns=state.turn,
        folios=tuple(state.vars.get("call_folios", ())))


@bp.errorhandler(Exception)
def technical_problem(exc):
    """Anything unexpected in a turn: the caller hears an apology and goes to an
    agent instead of Twilio's canned application error. The call's state is not
    saved (the turn's changes are lost with the exception), so a retry of this
    turn runs it again; money is safe either way (idempotent payments)."""
    from werkzeug.exceptions import HTTPException

    if isinstance(exc, HTTPException):
        return exc
    log.error("ivr_turn_failed", path=request.path, call=request.form.get("CallSid"),
              error=type(exc).__name__)
    return twiml.twiml_response(_final("technical_problem", transfer="technical_problem"))


def _expired() -> str:
    return _final("goodbye", hangup=True)


def _final(prompt: str, *, transfer: str | None = None, hangup: bool = False) -> str:
    """A last word outside any call state: say `prompt`, then transfer or hang up."""
    runtime = _runtime()
    text = runtime.interpreter.prompts.render(prompt, {})
    return twiml.render(Reply(says=(text,), transfer=transfer, hangup=hangup),
                        action_url="", no_input_url="", language=runtime.language,
                        voice=runtime.voice, queue=runtime.settings.agent_queue,
                        player=runtime.player)


def _log_turn(state: CallState, event: str, started: float) -> None:
    log.info("ivr_turn", call=state.call_sid, caller=state.caller, node=state.node,
             input=event, turn=state.turn,
             latency_ms=round((time.perf_counter() - started) * 1000, 1))
