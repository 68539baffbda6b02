"""A diagnostic for bench/turns.py: the bare <Gather> app plus only the two
Redis round trips a locked turn needs (take the call's lock and read its state
in one Lua script; write it back and release the lock in another), with no
signature check, no interpreter, no JSON. What any design that keeps the
per-call lock in Redis can reach at best on this machine.

    .venv/bin/python bench/turns.py --also-redis-floor
"""
import os
import uuid

import redis
from flask import Flask, Response, request

from bench.bare_gather import gather_twiml
from ivr.state import _ACQUIRE_AND_LOAD, _SAVE_AND_RELEASE

app = Flask(__name__)
# BENCH_KEEP_CONNECTION=1 (bench/turns.py --floor-keeps-connection): the
# worker keeps one connection (redis-py's single_connection_client), as the
# IVR's call store keeps one per thread (ivr/thread_connections.py), instead
# of taking one from the pool around each command.
client = redis.Redis.from_url(os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
                              decode_responses=True,
                              single_connection_client=os.environ.get("BENCH_KEEP_CONNECTION")
                              == "1")
acquire = client.register_script(_ACQUIRE_AND_LOAD)
save_release = client.register_script(_SAVE_AND_RELEASE)


@app.post("/ivr/step")
def step():
    turn = request.args.get("t", type=int, default=0) + 1
    sid = request.form.get("CallSid", "")
    key, token = f"floor:{sid}", uuid.uuid4().hex
    # The same scripts and keys as ivr/state.py's RedisCallStore: lease, fence,
    # the watched key (none here), the recording list.
    got = acquire(keys=[key, key + ":lock", key + ":fence", key + ":watch"],
                  args=[token, 1500, 7200])
    state = got[1] if got[0] == 1 and len(got) > 1 and got[1] else "{}"
    xml = gather_twiml(turn)
    save_release(keys=[key, key + ":lock", key + ":rec", key + ":fence", key + ":watch"],
                 args=[state, 7200, token, 200, ""])
    return Response(xml, mimetype="text/xml")
