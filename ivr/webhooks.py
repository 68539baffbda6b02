"""Twilio's webhooks: each turn of a call is a signed form POST answered with TwiML.

`POST /ivr/voice` is the URL a Twilio number is configured with; the gathers
and redirects come back to `POST /ivr/step?t=N`, N being the turn they answer;
`POST /ivr/status` is the status callback. A request whose signature does not
match gets 403 and touches nothing. A turn delivered twice gets the first
answer again and runs nothing twice.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time

import structlog
from flask import abort, request
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from banking_core.digits import int_or_none, parse_int
from config.hours import parse_hours
from ivr import agent_leg, queue, recording, twiml  # noqa: F401 (their routes hang off bp)
from ivr.call_end import call_end, note_reported_end, write_records
from ivr.interpreter import Event, Interpreter, Reply
from ivr.leases import LeaseLost
from ivr.lost_state import answer_lost_state
from ivr.menu_schema import MENU_DIR, load_menu
from ivr.operations import OPERATIONS, Services
from ivr.languages import call_language, remember
from ivr.prompts import PromptError, load_catalogs
from ivr.blueprint import bp
from ivr.runtime import IvrRuntime, call_sid, caller, runtime
from ivr.speaker import speaker_for
from ivr.state import STORE_UNAVAILABLE, CallState, Sealer, store_from_settings
from ivr.transfer import handoff_request, transfer_twiml
from telephony import call_control as telephony
from web import metrics

log = structlog.get_logger("ivr")
MENU_FILE = MENU_DIR / "linea_directa.yaml"


def init_app(app, *, store=None, call_control=None) -> None:
    settings = app.extensions["settings"]
    # Every language's prompts, checked against each other: a call starts in
    # IVR_LANGUAGE and may switch to the one its greeting offers.
    catalogs = load_catalogs(voices={settings.ivr_language: settings.ivr_voice})
    if settings.ivr_language not in catalogs:
        raise PromptError(f"IVR_LANGUAGE: no prompts for {settings.ivr_language!r} in "
                          f"ivr/prompts/ (there are: {', '.join(sorted(catalogs))})")
    prompts = catalogs[settings.ivr_language]
    menu = load_menu(MENU_FILE, prompts=prompts.keys(), operations=set(OPERATIONS))
    sealer = Sealer(settings.secret_key)
    app.extensions["ivr"] = IvrRuntime(
        interpreter=Interpreter(menu=menu, prompts=prompts, catalogs=catalogs,
                                operations=OPERATIONS, sealer=sealer,
                                services=Services(bank=app.extensions["bank"],
                                                  login_limits=app.extensions["login_limits"])),
        store=store or store_from_settings(settings),
        bank=app.extensions["bank"],
        validator=RequestValidator(settings.twilio_auth_token),
        settings=settings,
        speaker=speaker_for(app, catalogs, default=prompts.language, language_now=call_language),
        call_control=call_control or telephony.from_settings(settings),
        agent_hours=parse_hours(settings.agent_hours),
        turn_key=hmac.new(settings.secret_key.encode(), b"ivr-turn-key-v1",
                          hashlib.sha256).digest(),
    )
    app.extensions["call_control"] = app.extensions["ivr"].call_control
    app.register_blueprint(bp)


def request_key(turn) -> str:
    """What identifies a delivery of a turn: the same key twice is a duplicate.
    The turn (in the URL) and the no-input mark say it all, since a turn is
    answered once. The keys pressed are left out: a digest of them would be
    the NIP to anyone who tried its 10,000 values against a stored state (PCI
    counts a PIN-derived hash as PIN data). Keyed with the server's secret all
    the same, so no value stored for a call is a plain hash of a request."""
    raw = f"{request.path}|{turn}|{request.args.get('ev', '')}"
    return hmac.new(runtime().turn_key, raw.encode(), hashlib.sha256).hexdigest()[:32]


def _answer(state: CallState, reply, key: str) -> str:
    ivr = runtime()
    language = remember(state)  # this turn may have switched it (key 9)
    state.turn += 1
    base = ivr.settings.public_base_url
    if reply.transfer:
        xml, state.ended = transfer_twiml(handoff_request(state, reply.transfer), reply.says)
    else:
        xml = twiml.render(
            reply, action_url=f"{base}/ivr/step?t={state.turn}",
            no_input_url=f"{base}/ivr/step?t={state.turn}&ev=noinput", speaker=ivr.speaker,
            language=language)
    state.last_reply = {"key": key, "twiml": xml}
    if reply.hangup:
        state.ended = "hangup"
    return xml


@bp.post("/voice")
def voice():
    ivr, started = runtime(), time.perf_counter()
    sid = call_sid()
    key = request_key(0)
    with ivr.store.hold(sid) as slot:
        if slot.state is not None:  # a duplicated first request: the same answer
            return twiml.twiml_response(slot.state.last_reply["twiml"])
        if ivr.bank.call_ended(sid):
            return _replay_refused(sid)
        state = CallState(call_sid=sid, caller=caller(), language=ivr.language)
        remember(state)
        reply = ivr.interpreter.start(state)
        xml = _answer(state, reply, key)
        recording.record_turn(state, ivr.interpreter.menu, event=Event("start"),
                              input_node=None, reply=reply)
        slot.save(state)
    _log_turn(state, "start", started)
    return twiml.twiml_response(xml)


@bp.post("/step")
def step():
    ivr, started = runtime(), time.perf_counter()
    sid = call_sid()
    turn = request.args.get("t", type=parse_int)
    if turn is None:
        abort(400, "turn missing")
    no_input = request.args.get("ev") == "noinput"
    digits = request.form.get("Digits", "")
    if not no_input and (len(digits) > 40 or not re.fullmatch(r"[0-9*#]*", digits)):
        abort(400, "Digits malformed")
    key = request_key(turn)
    with ivr.store.hold(sid) as slot:
        state = slot.state
        if state is None:  # a step comes only after /ivr/voice: the state was lost
            if ivr.bank.call_ended(sid):
                return _replay_refused(sid)
            state, xml = answer_lost_state(sid, turn, key)
            response = _saved(slot, state, key, xml)
            _log_turn(state, "state_lost", started)  # counted as a turn that transferred
            return response
        if state.last_reply and state.last_reply["key"] == key:
            return twiml.twiml_response(state.last_reply["twiml"])  # duplicate delivery
        if turn != state.turn or state.ended:
            # Out of order (an old gather answering late): repeat where we are.
            return twiml.twiml_response(state.last_reply["twiml"])
        event = Event("no_input") if no_input or not digits else Event("digits", digits)
        input_node = state.node
        remember(state)  # an error in this turn is answered in the call's language
        token = _session_token(state)  # opened once a turn: checked now, watched at the save
        if _session_ended(state, slot, token):
            log.warning("ivr_session_ended", call=sid)
            reply = Reply(says=(ivr.speaker.words("session_ended", language=state.language),),
                          hangup=True)
        else:
            reply = ivr.interpreter.handle(state, event)
        xml = _answer(state, reply, key)
        recording.record_turn(state, ivr.interpreter.menu, event=event,
                              input_node=input_node, reply=reply)
        # The log-in turn sealed its session just now: watched from its save on.
        token = token or _session_token(state)
        response = _saved(slot, state, key, xml, watch=_session_watch(token))
    _log_turn(state, event.kind, started)
    return response


def _saved(slot, state: CallState, key: str, xml: str, watch: str | None = None):
    """Save the turn's state and answer it, unless the turn lost its lease
    (ivr/leases.py): then the turn that took over has the say, and this one
    answers with where the call stands now, as an out-of-order turn does."""
    try:
        slot.save(state, watch=watch)
    except LeaseLost:
        current = runtime().store.load(state.call_sid)
        log.warning("ivr_turn_superseded", call=state.call_sid,
                    same_request=bool(current and current.last_reply
                                      and current.last_reply["key"] == key))
        if current is None or not current.last_reply:
            raise
        return twiml.twiml_response(current.last_reply["twiml"])
    return twiml.twiml_response(xml)


def _replay_refused(sid: str):
    """Twilio never starts or resumes a finished call: a signed request
    captured earlier, replayed. Nothing is run for it."""
    log.warning("ivr_replay_refused", call=sid)
    refused = VoiceResponse()
    refused.hangup()
    return twiml.twiml_response(str(refused))


@bp.post("/status")
def status():
    """Twilio reports the call over: how it ended is recorded (once, however
    often Twilio delivers this), then its state is closed, and a hand-off still
    open for it is closed; an agent left alone in the conference hears that
    the caller hung up."""
    ivr = runtime()
    sid = call_sid()
    call_status = request.form.get("CallStatus", "")
    if call_status not in {"completed", "busy", "no-answer", "canceled", "failed"}:
        return ("", 204)
    if request.form.get("From", "").startswith("client:"):
        return ("", 204)  # an agent's softphone leg: not a customer's call
    duration = int_or_none(request.form.get("CallDuration", ""), max_length=9)
    try:
        end = _close_call(sid, call_status, duration)
    except STORE_UNAVAILABLE as exc:
        # Redis cannot be reached: the record is written from what the bank
        # knows (payments, hand-off) rather than not at all. A state that
        # survives is swept as a transcript later.
        log.error("call_recorded_without_state", call=sid, error=type(exc).__name__)
        end = call_end(ivr.bank, sid, call_status, duration, None, caller(), state_known=False)
        write_records(ivr.bank, end, None, [])
    handoff = ivr.bank.caller_gone(sid)
    if handoff is not None and handoff.caller_at in ("agent", "verifying") \
            and handoff.conference_sid:
        try:
            ivr.call_control.end_conference(handoff.conference_sid)
        except Exception as exc:  # noqa: BLE001 - the desk shows the caller gone anyway
            log.warning("conference_not_ended", handoff=handoff.id, error=type(exc).__name__)
    log.info("call_ended", call=sid, status=call_status, outcome=end.outcome,
             reason=end.transfer_reason, last_node=end.last_node, turns=end.turns,
             duration=end.duration_seconds)
    return ("", 204)


def _close_call(sid: str, call_status: str, duration: int | None):
    """Records first, cleanup after (ivr/call_end.py): the call's record and
    transcript are written before its state goes. A database that stays away
    answers 500, logged, with the call's end kept in its state for Twilio's
    retry or for `ivr transcripts sweep` to finish."""
    ivr = runtime()
    with ivr.store.hold(sid) as slot:
        state = slot.state
        turns = ivr.store.load_recording(sid) if state is not None else []
        try:
            end = call_end(ivr.bank, sid, call_status, duration, state, caller())
            write_records(ivr.bank, end, state, turns)
        except Exception:
            if state is not None:
                note_reported_end(state, call_status, duration)
                slot.save(state)
            raise
        token = _session_token(state) if state is not None else None
        if token:
            ivr.bank.sessions.end(token)  # the call's log-in ends with the call
        ivr.store.delete(sid)
    return end


def _session_token(state: CallState) -> str | None:
    sealed = state.sealed.get("session")
    return runtime().interpreter.sealer.open(sealed) if sealed else None


def _session_ended(state: CallState, slot, token: str | None) -> bool:
    """The caller logged in on this call (`token`: its session's, opened from
    the state) and that session is over: the credential was blocked or its
    owner logged out elsewhere since. With both in Redis, the session was read
    with the state (the call watches its key: no third round trip a turn);
    otherwise it is read from the bank."""
    if not state.sealed.get("session"):
        return False
    sessions = runtime().bank.sessions
    if not token:
        return True
    watched_key, watched = slot.watched or (None, None)
    stored_at = getattr(sessions, "stored_at", None)
    if stored_at is not None and watched_key == stored_at(token):
        record = sessions.from_stored(watched)
    else:
        record = sessions.get(token)
    return record is None or not record.alive(sessions.clock())


def _session_watch(token: str | None) -> str | None:
    """The key a call whose caller logged in watches (see _session_ended)."""
    stored_at = getattr(runtime().bank.sessions, "stored_at", None)
    return stored_at(token) if stored_at and token else None


def _log_turn(state: CallState, event: str, started: float) -> None:
    log.info("ivr_turn", call=state.call_sid, caller=state.caller, node=state.node,
             input=event, turn=state.turn,
             latency_ms=round((time.perf_counter() - started) * 1000, 1))
    metrics.observe_turn(node=state.node, ended=state.ended,
                         seconds=time.perf_counter() - started)
