"""What a call leaves behind: nothing stored for it equals or hashes to a
secret the caller keyed, unless one holds the server's key (finding 6); and
a finished call cannot be started again by replaying Twilio's requests
(finding 7)."""
import hashlib
import json
import re

from sqlalchemy import select

from banking_core import models
from banking_core.models import CallRecord, CallTranscript
from tests.e2e.test_call_flow import login_with_access_key, pay_wifi

NIP, ACCESS_KEY, CARD, CARD_NIP = "1357", "10000001", "4152310000000001", "2468"
HASHES = ("md5", "sha1", "sha256", "sha512")


def _strings(value):
    if isinstance(value, str):
        yield value
        try:
            inner = json.loads(value)
        except ValueError:
            return
        if isinstance(inner, (dict, list)):
            yield from _strings(inner)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def _stored_for(app, call_sid) -> list[str]:
    """Everything kept for the call: its state and recording in the call
    store, its transcript, call record and sessions in the bank."""
    ivr = app.extensions["ivr"]
    kept = []
    state = ivr.store.load(call_sid)
    if state is not None:
        kept.append(state.to_json())
    kept.append(json.dumps(ivr.store.load_recording(call_sid)))
    with app.extensions["bank"].unit_of_work() as uow:
        for model, key in ((CallTranscript, CallTranscript.call_sid),
                           (CallRecord, CallRecord.call_sid)):
            for row in uow.session.scalars(select(model).where(key == call_sid)):
                kept.append(json.dumps({c.name: getattr(row, c.name)
                                        for c in row.__table__.columns}, default=str))
        sessions = getattr(models, "LoginSession", None)  # (absent before issue 12)
        for row in uow.session.scalars(select(sessions)) if sessions else ():
            kept.append(json.dumps({"id": row.id, "data": row.data}))
    return list(_strings(kept))


def _turn_key_preimages(secret_values, turns):
    """What a digest of a turn's request could have been made of: the path,
    the turn, the keys pressed and the no-input mark, in the shapes a
    programmer might join them."""
    for path in ("/ivr/step", "/ivr/voice"):
        for turn in turns:
            for keys in secret_values:
                for ev in ("", "noinput"):
                    for sep in ("|", ":", ""):
                        yield sep.join((path, str(turn), keys, ev))


def _brute_force(hex_values, max_turn) -> set[str]:
    """An attacker who reads the store tries all 10,000 NIPs."""
    wanted = {h.lower() for h in hex_values}
    found = set()
    nips = [f"{n:04d}" for n in range(10_000)]
    for raw in _turn_key_preimages(nips, range(max_turn + 1)):
        digest = hashlib.sha256(raw.encode()).hexdigest()
        if digest in wanted or digest[:32] in wanted:
            found.add(raw)
    return found


def _leaks(strings, secrets) -> list[str]:
    leaks = []
    hex_values = [s for s in strings if re.fullmatch(r"[0-9a-fA-F]{16,128}", s)]
    for secret in secrets:
        pattern = re.compile(rf"(?<![0-9A-Za-z]){secret}(?![0-9A-Za-z])")
        leaks += [f"{secret} in {s[:60]!r}" for s in strings if pattern.search(s)]
        for name in HASHES:
            digest = hashlib.new(name, secret.encode()).hexdigest()
            leaks += [f"{name}({secret})" for h in hex_values
                      if h.lower() in (digest, digest[:len(h)])]
    return leaks


def test_nothing_stored_for_a_call_gives_back_its_nip_or_access_key(desk_app, dial):
    call = dial()
    snapshots: list[str] = []

    def snapshot():
        snapshots.extend(_stored_for(desk_app, call.call_sid))

    snapshot()
    call.press("1")
    snapshot()
    call.press(ACCESS_KEY)
    snapshot()
    call.press(NIP)
    snapshot()
    pay_wifi(call)
    snapshot()
    call.hang_up()
    snapshot()
    assert _leaks(snapshots, (NIP, ACCESS_KEY)) == []
    hex_values = {s for s in snapshots if re.fullmatch(r"[0-9a-fA-F]{32,64}", s)}
    assert hex_values, "the state keeps digests (the duplicate-turn mark): they are checked"
    assert _brute_force(hex_values, max_turn=6) == set()


def test_nothing_stored_for_a_card_log_in_gives_back_the_card_or_its_nip(desk_app, dial):
    call = dial()
    call.press("2")
    call.press(CARD)
    kept = _stored_for(desk_app, call.call_sid)
    call.press(CARD_NIP)
    kept += _stored_for(desk_app, call.call_sid)
    call.hang_up()
    kept += _stored_for(desk_app, call.call_sid)
    assert _leaks(kept, (CARD, CARD_NIP)) == []
    hex_values = {s for s in kept if re.fullmatch(r"[0-9a-fA-F]{32,64}", s)}
    assert not [raw for raw in _turn_key_preimages([CARD_NIP, CARD], range(4))
                if hashlib.sha256(raw.encode()).hexdigest()[:32] in hex_values]


def test_a_finished_calls_signed_first_request_cannot_start_it_again(desk_app, dial):
    call = dial()
    first = dict(call._params("ringing"))
    login_with_access_key(call)
    call.hang_up()
    store = desk_app.extensions["ivr"].store
    assert store.load(call.call_sid) is None
    status, body = call.post(f"{call.base_url}/ivr/voice", first)  # captured, replayed
    assert status == 200 and "<Hangup" in body and "<Gather" not in body
    assert store.load(call.call_sid) is None
    status, body = call.post(f"{call.base_url}/ivr/step?t=1", {**first, "Digits": "1"})
    assert "<Gather" not in body and store.load(call.call_sid) is None
