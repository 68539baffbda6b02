"""A diagnostic for bench/turns.py: the Redis floor (bench/bare_redis_gather.py)
plus only what any correct turn of ours must also do, with none of the IVR's
code paths around it:

- check Twilio's signature over the public URL and the form (one HMAC, as
  ivr/blueprint.py does on its fast path);
- read the call's state as JSON and write it back (a state of the size a
  logged-in caller's has, with the last reply kept for Twilio's retries);
- write the reply's TwiML (as ivr/twiml.py writes it) and keep it in the state;
- add the security headers every response carries (web/headers.py);
- check the caller's log-in session, read in the same round trip as the
  state (the call watches its key, as ivr/state.py's scripts do), and parse
  it to see it alive;
- append the turn to the call's transcript (one masked JSON entry, pushed
  by the save's script, as ivr/recording.py's are).

No interpreter, no logging or metrics, one Flask hook, no lease renewal.
Measured beside the IVR and the floor by
    .venv/bin/python bench/turns.py --also-redis-floor --also-required-floor
"""
import hashlib
import hmac
import json
import os
import time
import uuid

import redis
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

from ivr.state import _ACQUIRE_AND_LOAD, _SAVE_AND_RELEASE
from ivr.twiml import DECLARATION, Verbs, _element
from web.headers import add_security_headers

app = Flask(__name__)
app.after_request(add_security_headers)
client = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
                              decode_responses=True)
acquire = client.register_script(_ACQUIRE_AND_LOAD)
save_release = client.register_script(_SAVE_AND_RELEASE)
validator = RequestValidator(os.environ.get("TWILIO_AUTH_TOKEN", "bench-twilio-token"))
BASE = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5077")
# A logged-in caller's session, as banking_core/sessions.py keeps it in Redis.
SESSION_KEY = "required:session:demo"
client.set(SESSION_KEY, json.dumps({
    "principal": "customer:1", "channel": "phone", "data": "", "created_at": time.time(),
    "seen_at": time.time(),
    "expires_at": time.time() + 86400, "idle": 86400}))
# What a logged-in caller's state holds at the main menu (ivr/state.py).
FIRST_STATE = {
    "node": "main_menu", "turn": 0, "attempts": 0,
    "vars": {"login_method": "access_key", "hints_heard": ["ways_out_entry", "ways_out_menu"],
             "customer_name": "Ana", "login_blocked": ""},
    "sealed": {"session": "gAAAAAB" + "x" * 130},
    "principal": {"customer_id": 1, "customer_name": "Ana López", "method": "access_key",
                  "account_ids": [6, 7, 8]},
    "caller": "+523336693552", "language": "es-MX", "started_at": 1795977438.97,
    "ended": None, "last_reply": None,
}


@app.post("/ivr/step")
def step():
    url = f"{BASE}{request.full_path.rstrip('?')}"
    expected = validator.compute_signature(url, request.form)
    if not hmac.compare_digest(expected.encode(),
                               request.headers.get("X-Twilio-Signature", "").encode()):
        return Response(status=403)
    turn = request.args.get("t", type=int, default=0) + 1
    sid = request.form.get("CallSid", "")
    key, token = f"required:{sid}", uuid.uuid4().hex
    got = acquire(keys=[key, key + ":lock", key + ":fence", key + ":watch"],
                  args=[token, 1500, 7200])
    state = json.loads(got[1]) if got[0] == 1 and len(got) > 1 and got[1] else \
        dict(FIRST_STATE, call_sid=sid)
    # The session, watched: read with the state; alive unless ended or idle.
    session = json.loads(got[3]) if len(got) > 3 and got[3] else None
    if session is not None and not (time.time() < session["expires_at"]):
        return Response(status=410)
    gather = Verbs()
    gather.say("Para sus cuentas de cheques, ahorro o nómina, marque 1.",
               language="es-MX", voice="Polly.Mia")
    action = f"{BASE}/ivr/step?t={turn}"
    response = Verbs()
    response.parts.append(_element("Gather", {
        "input": "dtmf", "action": action, "method": "POST", "timeout": 5,
        "finishOnKey": "", "numDigits": 1}, gather.text()))
    response.redirect(f"{action}&ev=noinput", method="POST")
    xml = f"{DECLARATION}{_element('Response', {}, response.text())}"
    state["turn"] = turn
    state["last_reply"] = {"key": hashlib.md5(request.get_data()).hexdigest(), "twiml": xml}
    entry = {"turn": turn, "node": "main_menu", "keys": request.form.get("Digits", ""),
             "says": ["Para sus cuentas de cheques, ahorro o nómina, marque 1."],
             "visited": ["main_menu"], "at": "main_menu"}
    save_release(keys=[key, key + ":lock", key + ":rec", key + ":fence", key + ":watch"],
                 args=[json.dumps(state), 7200, token, 200, SESSION_KEY, json.dumps(entry)])
    return Response(xml, mimetype="text/xml")
