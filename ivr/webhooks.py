"""Twilio's webhooks: each turn of a call is a signed form POST answered with TwiML.

`POST /ivr/voice` is the URL a Twilio number is configured with; the gathers
and redirects come back to `POST /ivr/step?t=N`, N being the turn they answer;
`POST /ivr/status` is the status callback. A request whose signature does not
match gets 403 and touches nothing. A turn delivered twice gets the first
answer again and runs nothing twice.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import time

import structlog
from flask import abort, request
from twilio.twiml.voice_response import VoiceResponse

from banking_core.digits import int_or_none, parse_int
from config.hours import parse_hours
from config.logging import enabled as logging_enabled
from ivr import agent_leg, queue, recording, twiml  # noqa: F401 (their routes hang off bp)
from ivr.call_end import call_end, note_reported_end, write_records
from ivr.interpreter import Event, Interpreter, Reply
from ivr.keyed_hash import KeyedHash
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
from ivr.twilio_signature import SignatureChecker
from telephony import call_control as telephony
from web import metrics

log = structlog.get_logger("ivr")
MENU_FILE = MENU_DIR / "linea_directa.yaml"
DIGITS = re.compile(r"[0-9*#]{0,40}")  # what a <Gather> can send: keys, at most 40


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
        signatures=SignatureChecker(settings.twilio_auth_token),
        settings=settings,
        speaker=speaker_for(app, catalogs, default=prompts.language, language_now=call_language),
        call_control=call_control or telephony.from_settings(settings),
        agent_hours=parse_hours(settings.agent_hours),
        turn_key=KeyedHash(hmac.new(settings.secret_key.encode(), b"ivr-turn-key-v1",
                                    hashlib.sha256).digest(), hashlib.sha256),
    )
    app.extensions["call_control"] = app.extensions["ivr"].call_control
    app.register_blueprint(bp)


def request_key(turn, ivr: IvrRuntime | None = None, req=None, mark: str | None = None) -> str:
    """What identifies a delivery of a turn: the same key twice is a duplicate.
    The turn (in the URL) and the no-input mark say it all, since a turn is
    answered once. The keys pressed are left out: a digest of them would be
    the NIP to anyone who tried its 10,000 values against a stored state (PCI
    counts a PIN-derived hash as PIN data). Keyed with the server's secret all
    the same, so no value stored for a call is a plain hash of a request."""
    req = req or request
    if mark is None:
        mark = no_input_mark(req)
    raw = f"{req.path}|{turn}|{mark}"
    return (ivr or runtime()).turn_key.hexdigest(raw.encode())[:32]


def no_input_mark(req) -> str:
    """The `ev` of a turn's URL ("noinput" on a Gather's timeout), "" on most
    turns. Asked with `in` first: werkzeug's MultiDict.get answers a missing
    name by raising and catching a BadRequestKeyError, twice a turn."""
    return req.args["ev"] if "ev" in req.args else ""


def _answer(ivr: IvrRuntime, state: CallState, reply, key: str, remembered: str) -> str:
    language = state.language or ivr.language
    if language != remembered:  # this turn switched it (key 9)
        remember(state, ivr)
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
    key = request_key(0, ivr)
    with ivr.store.hold(sid) as slot:
        if slot.state is not None:  # a duplicated first request: the same answer
            return twiml.twiml_response(slot.state.last_reply["twiml"])
        if ivr.bank.call_ended(sid):
            return _replay_refused(sid)
        state = CallState(call_sid=sid, caller=caller(), language=ivr.language)
        language = remember(state, ivr)
        reply = ivr.interpreter.start(state)
        xml = _answer(ivr, state, reply, key, language)
        recording.record_turn(state, ivr.interpreter.menu, event=Event("start"),
                              input_node=None, reply=reply)
        slot.save(state)
    _log_turn(state, "start", started)
    return twiml.twiml_response(xml)


@bp.post("/step")
def step():
    # The request and the runtime, each looked up once: a look-up through
    # Flask's context-local proxies costs about 10,000 instructions.
    ivr, req, started = runtime(), request._get_current_object(), time.perf_counter()
    sid = call_sid(req)
    turn = req.args.get("t", type=parse_int)
    if turn is None:
        abort(400, "turn missing")
    mark = no_input_mark(req)
    no_input = mark == "noinput"
    digits = req.form.get("Digits", "")
    if not no_input and not DIGITS.fullmatch(digits):
        abort(400, "Digits malformed")
    key = request_key(turn, ivr, req, mark)
    with ivr.store.hold(sid) as slot:
        state = slot.state
        if state is None:  # a step comes only after /ivr/voice: the state was lost
            if ivr.bank.call_ended(sid):
                return _replay_refused(sid)
            state, xml = answer_lost_state(sid, turn, key)
            response = _saved(ivr, slot, state, key, xml)
            _log_turn(state, "state_lost", started)  # counted as a turn that transferred
            return response
        if state.last_reply and state.last_reply["key"] == key:
            return twiml.twiml_response(state.last_reply["twiml"])  # duplicate delivery
        if turn != state.turn or state.ended:
            # Out of order (an old gather answering late): repeat where we are.
            return twiml.twiml_response(state.last_reply["twiml"])
        event = Event("no_input") if no_input or not digits else Event("digits", digits)
        input_node = state.node
        # An error in this turn is answered in the call's language.
        language = remember(state, ivr)
        # The caller's session, opened once a turn: checked now, watched at the save.
        session = _Session.of(ivr, state)
        if session.ended(slot):
            log.warning("ivr_session_ended", call=sid)
            reply = Reply(says=(ivr.speaker.words("session_ended", language=state.language),),
                          hangup=True)
        else:
            reply = ivr.interpreter.handle(state, event)
        xml = _answer(ivr, state, reply, key, language)
        recording.record_turn(state, ivr.interpreter.menu, event=event,
                              input_node=input_node, reply=reply)
        if session.token is None:  # the log-in turn sealed its session just now
            session = _Session.of(ivr, state)
        response = _saved(ivr, slot, state, key, xml, watch=session.watch)
    _log_turn(state, event.kind, started)
    return response


def _saved(ivr: IvrRuntime, slot, state: CallState, key: str, xml: str,
           watch: str | None = None):
    """Save the turn's state and answer it, unless the turn lost its lease
    (ivr/leases.py): then the turn that took over has the say, and this one
    answers with where the call stands now, as an out-of-order turn does."""
    try:
        slot.save(state, watch=watch)
    except LeaseLost:
        current = ivr.store.load(state.call_sid)
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
        token = _Session.of(ivr, state).token if state is not None else None
        if token:
            ivr.bank.sessions.end(token)  # the call's log-in ends with the call
        ivr.store.delete(sid)
    return end


class _Session:
    """The log-in session of a call whose caller logged in: its token, opened
    from the state, and the store key the call watches (`watch`): with both
    in Redis, the session is read in the same round trip as the state, so
    checking it costs a turn no third one (ivr/state.py)."""
    __slots__ = ("ivr", "sealed", "token", "watch")

    def __init__(self, ivr: IvrRuntime, sealed: str | None, token: str | None,
                 watch: str | None):
        self.ivr, self.sealed, self.token, self.watch = ivr, sealed, token, watch

    @classmethod
    def of(cls, ivr: IvrRuntime, state: CallState) -> "_Session":
        sealed = state.sealed.get("session")
        token = ivr.interpreter.sealer.open(sealed) if sealed else None
        return cls(ivr, sealed, token, _watch_key(ivr.bank.sessions, token) if token else None)

    def ended(self, slot) -> bool:
        """The caller logged in on this call and that session is over: the
        credential was blocked or its owner logged out elsewhere since."""
        if not self.sealed:
            return False
        if not self.token:
            return True  # sealed by someone else, altered, or expired
        sessions = self.ivr.bank.sessions
        watched_key, watched = slot.watched or (None, None)
        if self.watch is not None and watched_key == self.watch:
            record = _stored_session(sessions, watched)
        else:
            record = sessions.get(self.token)
        return record is None or not record.alive(sessions.clock())


@functools.lru_cache(maxsize=4096)
def _watch_key(sessions, token: str) -> str | None:
    """The store key of `token`'s session, where the store can be watched
    (Redis); a digest, remembered for the turns of the call to come."""
    stored_at = getattr(sessions, "stored_at", None)
    return stored_at(token) if stored_at else None


@functools.lru_cache(maxsize=4096)
def _stored_session(sessions, raw: str | None):
    """The session record stored as `raw`, parsed once: a call reads the same
    record on every turn until its session is touched (records are frozen)."""
    return sessions.from_stored(raw)


def _log_turn(state: CallState, event: str, started: float) -> None:
    seconds = time.perf_counter() - started
    if logging_enabled(logging.INFO):
        log.info("ivr_turn", call=state.call_sid, caller=state.caller, node=state.node,
                 input=event, turn=state.turn, latency_ms=round(seconds * 1000, 1))
    metrics.observe_turn(node=state.node, ended=state.ended, seconds=seconds)
