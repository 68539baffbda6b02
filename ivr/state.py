"""Call state, keyed by CallSid, in Redis (production) or in this process.

Any worker can serve any turn of a call: the state travels through the store,
never through process memory. Values keyed by the caller that are secret (the
access key, card or account number used to log in) are kept encrypted; the NIP
is never kept at all (see the interpreter's transient values).
"""
from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import threading
import time
import uuid

import orjson
import redis
from cryptography.fernet import Fernet, InvalidToken
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from ivr.leases import LEASE, LOCK_WAIT, LeaseLost, Renewer
from ivr.thread_connections import ThreadConnections

# Tokens a Sealer remembers having opened (Sealer.open).
MEMO_SIZE = 4096
STATE_TTL = 2 * 60 * 60  # longer than any call; an abandoned call's state expires
MAX_RECORDED_TURNS = 200  # a call's recording keeps its last turns


def to_text(value) -> str:
    """A state or a recorded turn as JSON text. orjson, not json: a turn
    writes its state and a recorded turn and reads its state back, and json's
    encoder and decoder were a twentieth of a turn's CPU (orjson's text is
    compact UTF-8; json reads it alike). Keys that are not strings become
    strings, as json.dumps makes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


from_text = orjson.loads
# The call's lock is a lease with a fencing token: see ivr/leases.py.


@dataclasses.dataclass
class CallState:
    call_sid: str
    node: str = ""
    turn: int = 0
    attempts: int = 0
    # The call's blackboard. A name is the call's ("login_method"), or, with a
    # namespace before a dot ("payment.amount"), its namespace's: a dict of its
    # own in vars (vars["payment"]), so the payment in progress is cleared as
    # one (`forget("payment")`) and no list of its names is kept anywhere.
    vars: dict = dataclasses.field(default_factory=dict)
    sealed: dict = dataclasses.field(default_factory=dict)
    principal: dict | None = None
    caller: str | None = None
    # The prompt catalog the call speaks (ivr/prompts/<language>.yaml): the
    # configured IVR_LANGUAGE when it starts, until the caller picks another.
    # None in states saved before calls had a language: the configured one.
    language: str | None = None
    started_at: float = dataclasses.field(default_factory=time.time)
    ended: str | None = None
    last_reply: dict | None = None
    # This turn's entries of what the call heard and keyed, secrets masked
    # (ivr/recording.py). The store appends them to the call's recording,
    # kept beside the state, not in it: a turn then reads and writes a state
    # of the same small size however long the call has been going.
    recording: list = dataclasses.field(default_factory=list)

    def get(self, name: str, default=None):
        """The value of `name` ("login_method", "payment.amount"), or `default`."""
        space, _, key = name.rpartition(".")
        found = self.vars.get(space, {}) if space else self.vars
        return found.get(key, default) if isinstance(found, dict) else default

    def set(self, name: str, value) -> None:
        space, _, key = name.rpartition(".")
        (self.vars.setdefault(space, {}) if space else self.vars)[key] = value

    def forget(self, namespace: str) -> None:
        """Drop a namespace and every value in it."""
        self.vars.pop(namespace, None)

    def readable(self) -> dict:
        """What prompts read: the call's values, and each namespace's by its bare
        name ({amount} is payment.amount), so prompt texts need not know where
        a value is kept. Namespaces hold values the call's do not name."""
        flat = {k: v for k, v in self.vars.items() if not isinstance(v, dict)}
        for value in self.vars.values():
            if isinstance(value, dict):
                flat.update(value)
        return flat

    def to_json(self) -> str:
        # Every field already holds plain JSON values, so the instance's own
        # dict serializes as is (dataclasses.asdict deep-copies it first, which
        # cost a fifth of a turn).
        fields = dict(vars(self))
        del fields["recording"]
        return to_text(fields)

    @classmethod
    def from_json(cls, text: str) -> "CallState":
        fields = from_text(text)
        fields.pop("recording", None)
        fields.pop("path", None)  # states saved before the recording replaced it
        return cls(**fields)


class Sealer:
    """Encrypts the few values a call must keep but nobody may read in the store."""

    def __init__(self, secret_key: str):
        digest = hashlib.sha256(b"ivr-call-state-v1:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))
        self._opened: dict[str, tuple[str, float]] = {}

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, token: str) -> str | None:
        """The sealed value, or None when the token is not ours, was altered
        or is older than STATE_TTL.

        A call opens the same token (its caller's session) on every turn, and
        Fernet's HMAC and AES were about a sixteenth of a turn's CPU, so a
        token this process has opened is remembered until it would expire. Only
        the exact bytes of a token that verified are ever found in the memo: a
        forged or altered one misses it and is checked in full."""
        now = time.time()
        known = self._opened.get(token)
        if known is not None and now < known[1]:
            return known[0]
        try:
            value = self._fernet.decrypt(token.encode(), ttl=STATE_TTL).decode()
            expires = self._fernet.extract_timestamp(token.encode()) + STATE_TTL
        except (InvalidToken, ValueError):
            return None
        if len(self._opened) >= MEMO_SIZE:
            self._opened.clear()  # rarely: a worker holds a few hundred live calls
        self._opened[token] = (value, expires)
        return value


class Slot:
    """A call's state held under its lease: `state` as loaded (None for a new
    call, or one whose state was lost), `save()` stores it back unless another
    turn has taken the lease since (LeaseLost); leaving the block releases it."""

    def __init__(self, state, watched=None):
        self.state = state
        self.saved = False
        # (key, value) of the key the call watches (RedisCallStore.hold), read
        # in the same round trip as the state; None where the store cannot.
        self.watched = watched


class MemoryCallStore:
    """The default with no REDIS_URL: one process, state lost on restart. Its
    leases behave as Redis's do (ivr/leases.py), between threads."""

    def __init__(self, ttl: int = STATE_TTL):
        self._ttl = ttl
        self._states: dict[str, tuple[float, str]] = {}
        self._recordings: dict[str, list[str]] = {}
        self._leases: dict[str, tuple[str, float]] = {}  # call -> (token, expires)
        self._fences: dict[str, str] = {}  # call -> the token of its newest holder
        self._guard = threading.Condition()
        self._renewer = Renewer(self._renew)

    def load(self, call_sid: str) -> CallState | None:
        found = self._states.get(call_sid)
        if found is None or found[0] < time.monotonic():
            return None
        return CallState.from_json(found[1])

    def save(self, state: CallState) -> None:
        self._states[state.call_sid] = (time.monotonic() + self._ttl, state.to_json())
        if state.recording:
            kept = self._recordings.setdefault(state.call_sid, [])
            kept += [to_text(entry) for entry in state.recording]
            del kept[:-MAX_RECORDED_TURNS]

    def load_recording(self, call_sid: str) -> list:
        return [from_text(entry) for entry in self._recordings.get(call_sid, ())]

    def delete(self, call_sid: str) -> None:
        # The fence stays: a turn that lost its lease cannot bring the call back.
        self._states.pop(call_sid, None)
        self._recordings.pop(call_sid, None)

    def forget_everything(self) -> None:
        """What a restart does to this store (the fault tests' FLUSHALL)."""
        with self._guard:
            self._states.clear()
            self._recordings.clear()
            self._fences.clear()

    def idle_states(self, min_idle: float):
        """States untouched for at least `min_idle` seconds (ivr transcripts sweep)."""
        now = time.monotonic()
        for expires, text in list(self._states.values()):
            if expires > now and self._ttl - (expires - now) >= min_idle:
                yield CallState.from_json(text)

    def _renew(self, held: list) -> list:
        with self._guard:
            now, kept = time.monotonic(), []
            for call_sid, token in held:
                ours = self._leases.get(call_sid, ("", 0))[0] == token
                if ours:
                    self._leases[call_sid] = (token, now + LEASE)
                kept.append(ours)
            return kept

    @contextlib.contextmanager
    def hold(self, call_sid: str):
        token = uuid.uuid4().hex
        deadline = time.monotonic() + LOCK_WAIT
        with self._guard:
            while True:
                now = time.monotonic()
                holder = self._leases.get(call_sid)
                if holder is None or holder[1] <= now:  # free, or its holder stopped renewing
                    self._leases[call_sid] = (token, now + LEASE)
                    self._fences[call_sid] = token
                    break
                if now >= deadline:
                    raise TimeoutError(f"call {call_sid} is busy")
                self._guard.wait(min(deadline, holder[1]) - now)
        self._renewer.add(call_sid, token)
        try:
            slot = Slot(self.load(call_sid))

            def save(state: CallState, watch: str | None = None) -> None:
                # `watch` (RedisCallStore) is Redis's alone: here every check
                # reads the bank, in-process, at no round-trip cost.
                self._renewer.remove(call_sid, token)  # the save releases the lease
                with self._guard:
                    if self._fences.get(state.call_sid, token) != token:
                        raise LeaseLost(f"call {call_sid}: another turn holds it now")
                    self._fences[state.call_sid] = token
                    self.save(state)
                slot.saved = True

            slot.save = save
            yield slot
        finally:
            self._renewer.remove(call_sid, token)
            with self._guard:
                if self._leases.get(call_sid, ("",))[0] == token:
                    del self._leases[call_sid]
                self._guard.notify_all()


# Taking the call's lease and reading its state is one round trip; writing the
# state and letting the lease go is another. A turn costs two, not four. The
# lease's token is also written as the call's fence (KEYS[3]): the last holder.
# A token already holding the lease is ours: a retried EVAL after a dropped reply.
#
# A call may also watch one more key (KEYS[4] names it; e.g. the caller's log-in
# session, which every turn must find alive before it acts): read in the same
# round trip, so that check costs no third one. The watched key is named by
# data, not declared in KEYS: this needs the state and what it watches on one
# Redis server (no Cluster), as REDIS_URL gives both.
_ACQUIRE_AND_LOAD = """
local holder = redis.call('GET', KEYS[2])
if holder == ARGV[1]
    or (not holder and redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2])) then
  redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[3])
  local watched = redis.call('GET', KEYS[4])
  local value = false
  if watched then value = redis.call('GET', watched) end
  return {1, redis.call('GET', KEYS[1]), watched, value}
end
return {0}
"""
# The save goes through only while this turn's token is the call's fence (or
# the fence is gone with everything else: a flushed or restarted Redis, where
# no newer turn can have taken the call without writing its own).
_SAVE_AND_RELEASE = """
local fence = redis.call('GET', KEYS[4])
if fence and fence ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SET', KEYS[4], ARGV[3], 'EX', ARGV[2])
if ARGV[5] ~= '' then redis.call('SET', KEYS[5], ARGV[5], 'EX', ARGV[2]) end
if #ARGV > 5 then
  local length = 0
  for i = 6, #ARGV do length = redis.call('RPUSH', KEYS[3], ARGV[i]) end
  if length > tonumber(ARGV[4]) then redis.call('LTRIM', KEYS[3], -tonumber(ARGV[4]), -1) end
  redis.call('EXPIRE', KEYS[3], ARGV[2])
end
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class RedisCallStore:
    def __init__(self, client, *, ttl: int = STATE_TTL, prefix: str = "ivr:call:"):
        self._redis, self._ttl, self._prefix = client, ttl, prefix
        self._connections = ThreadConnections(client)  # a turn's two round trips
        self._acquire = client.register_script(_ACQUIRE_AND_LOAD)
        self._save_release = client.register_script(_SAVE_AND_RELEASE)
        self._release = client.register_script(_RELEASE)
        self._renew_one = client.register_script(_RENEW)
        self._renewer = Renewer(self._renew)

    def load(self, call_sid: str) -> CallState | None:
        text = self._redis.get(self._prefix + call_sid)
        return None if text is None else CallState.from_json(text)

    def save(self, state: CallState) -> None:
        key = self._prefix + state.call_sid
        pipe = self._redis.pipeline()
        pipe.set(key, state.to_json(), ex=self._ttl)
        if state.recording:
            pipe.rpush(key + ":rec", *(to_text(entry) for entry in state.recording))
            pipe.ltrim(key + ":rec", -MAX_RECORDED_TURNS, -1)
            pipe.expire(key + ":rec", self._ttl)
        pipe.execute()

    def load_recording(self, call_sid: str) -> list:
        return [from_text(entry)
                for entry in self._redis.lrange(self._prefix + call_sid + ":rec", 0, -1)]

    def delete(self, call_sid: str) -> None:
        # The fence stays (it expires with STATE_TTL): a turn that lost its
        # lease cannot bring a finished call's state back.
        self._redis.delete(self._prefix + call_sid, self._prefix + call_sid + ":rec")

    def idle_states(self, min_idle: float):
        """States untouched for at least `min_idle` seconds: every save resets
        a state's TTL, so what is left of it says how long it has been idle."""
        keys = [k for k in self._redis.scan_iter(match=self._prefix + "*", count=500)
                if not k.endswith((":lock", ":rec", ":fence"))]
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            pipe = self._redis.pipeline(transaction=False)
            for key in chunk:
                pipe.ttl(key)
            for key, ttl in zip(chunk, pipe.execute()):
                if ttl >= 0 and self._ttl - ttl >= min_idle:
                    text = self._redis.get(key)
                    if text is not None:
                        yield CallState.from_json(text)

    def _renew(self, held: list) -> list:
        pipe = self._redis.pipeline(transaction=False)
        for call_sid, token in held:
            self._renew_one(keys=[self._prefix + call_sid + ":lock"],
                            args=[token, int(LEASE * 1000)], client=pipe)
        return [bool(kept) for kept in pipe.execute()]

    @contextlib.contextmanager
    def hold(self, call_sid: str):
        """One turn of a call at a time across every worker: a duplicated
        webhook waits, then finds the first one's answer; a turn behind a
        worker that died waits at most LEASE (ivr/leases.py)."""
        key = self._prefix + call_sid
        lock_key, fence_key = key + ":lock", key + ":fence"
        token = uuid.uuid4().hex
        deadline = time.monotonic() + LOCK_WAIT
        pause = 0.005
        connection = self._connections.get()
        while True:
            got = self._acquire(keys=[key, lock_key, fence_key, key + ":watch"],
                                args=[token, int(LEASE * 1000), self._ttl], client=connection)
            if got[0] == 1:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"call {call_sid} is busy")
            time.sleep(pause)
            pause = min(pause * 2, 0.025)
        self._renewer.add(call_sid, token)
        watched = (got[2], got[3]) if len(got) > 2 and got[2] else (None, None)
        slot = Slot(None if got[1] is None else CallState.from_json(got[1]), watched)

        def save(state: CallState, watch: str | None = None) -> None:
            self._renewer.remove(call_sid, token)  # the save releases the lease
            saved = self._save_release(
                keys=[key, lock_key, key + ":rec", fence_key, key + ":watch"],
                args=[state.to_json(), self._ttl, token, MAX_RECORDED_TURNS, watch or "",
                      *(to_text(entry) for entry in state.recording)], client=connection)
            if not saved:
                raise LeaseLost(f"call {call_sid}: another turn holds it now")
            slot.saved = True

        slot.save = save
        try:
            yield slot
        finally:
            self._renewer.remove(call_sid, token)
            if not slot.saved:
                with contextlib.suppress(Exception):
                    self._release(keys=[lock_key], args=[token], client=connection)


# What a store that cannot be reached raises (after the retries below).
STORE_UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

# A Redis that restarts (a few seconds) is ridden out inside the turn: each
# command is retried with backoff for about REDIS_RETRY_SECONDS before the turn
# gives up (and the caller is transferred as a technical problem).
REDIS_RETRIES = 10
REDIS_RETRY_CAP = 0.3


def redis_client(url: str):
    return redis.Redis.from_url(
        url, decode_responses=True, socket_connect_timeout=1, socket_timeout=3,
        retry=Retry(ExponentialBackoff(cap=REDIS_RETRY_CAP, base=0.02), REDIS_RETRIES),
        retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError])


def store_from_settings(settings):
    if settings.redis_url:
        return RedisCallStore(redis_client(settings.redis_url))
    return MemoryCallStore()
