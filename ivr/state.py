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
import json
import threading
import time
import uuid

from cryptography.fernet import Fernet, InvalidToken

STATE_TTL = 2 * 60 * 60  # longer than any call; an abandoned call's state expires
LOCK_TIMEOUT = 15        # seconds a turn may hold its call's lock (Twilio waits 15 s)


@dataclasses.dataclass
class CallState:
    call_sid: str
    node: str = ""
    turn: int = 0
    attempts: int = 0
    vars: dict = dataclasses.field(default_factory=dict)
    sealed: dict = dataclasses.field(default_factory=dict)
    principal: dict | None = None
    caller: str | None = None
    started_at: float = dataclasses.field(default_factory=time.time)
    ended: str | None = None
    last_reply: dict | None = None
    path: list = dataclasses.field(default_factory=list)
    # What the call heard and keyed, secrets masked (ivr/recording.py); saved
    # to the database once, when the call ends, not on every turn.
    recording: list = dataclasses.field(default_factory=list)

    def to_json(self) -> str:
        # Every field already holds plain JSON values, so the instance's own
        # dict serializes as is (dataclasses.asdict deep-copies it first, which
        # cost a fifth of a turn).
        return json.dumps(vars(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "CallState":
        return cls(**json.loads(text))


class Sealer:
    """Encrypts the few values a call must keep but nobody may read in the store."""

    def __init__(self, secret_key: str):
        digest = hashlib.sha256(b"ivr-call-state-v1:" + secret_key.encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def open(self, token: str) -> str | None:
        try:
            return self._fernet.decrypt(token.encode(), ttl=STATE_TTL).decode()
        except (InvalidToken, ValueError):
            return None


class Slot:
    """A call's state held under its lock: `state` as loaded (None for a new
    call), `save()` stores it back; leaving the block releases the lock."""

    def __init__(self, state):
        self.state = state
        self.saved = False


class MemoryCallStore:
    """The default with no REDIS_URL: one process, state lost on restart."""

    def __init__(self, ttl: int = STATE_TTL):
        self._ttl = ttl
        self._states: dict[str, tuple[float, str]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def load(self, call_sid: str) -> CallState | None:
        found = self._states.get(call_sid)
        if found is None or found[0] < time.monotonic():
            return None
        return CallState.from_json(found[1])

    def save(self, state: CallState) -> None:
        self._states[state.call_sid] = (time.monotonic() + self._ttl, state.to_json())

    def delete(self, call_sid: str) -> None:
        self._states.pop(call_sid, None)

    def idle_states(self, min_idle: float):
        """States untouched for at least `min_idle` seconds (ivr transcripts sweep)."""
        now = time.monotonic()
        for expires, text in list(self._states.values()):
            if expires > now and self._ttl - (expires - now) >= min_idle:
                yield CallState.from_json(text)

    @contextlib.contextmanager
    def hold(self, call_sid: str):
        with self._guard:
            lock = self._locks.setdefault(call_sid, threading.Lock())
        if not lock.acquire(timeout=LOCK_TIMEOUT):
            raise TimeoutError(f"call {call_sid} is busy")
        try:
            slot = Slot(self.load(call_sid))
            slot.save = lambda state: self.save(state)
            yield slot
        finally:
            lock.release()


# Taking the call's lock and reading its state is one round trip; writing the
# state and letting the lock go is another. A turn costs two, not four.
_ACQUIRE_AND_LOAD = """
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('GET', KEYS[1])}
end
return {0}
"""
_SAVE_AND_RELEASE = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisCallStore:
    def __init__(self, client, *, ttl: int = STATE_TTL, prefix: str = "ivr:call:"):
        self._redis, self._ttl, self._prefix = client, ttl, prefix
        self._acquire = client.register_script(_ACQUIRE_AND_LOAD)
        self._save_release = client.register_script(_SAVE_AND_RELEASE)
        self._release = client.register_script(_RELEASE)

    def load(self, call_sid: str) -> CallState | None:
        text = self._redis.get(self._prefix + call_sid)
        return None if text is None else CallState.from_json(text)

    def save(self, state: CallState) -> None:
        self._redis.set(self._prefix + state.call_sid, state.to_json(), ex=self._ttl)

    def delete(self, call_sid: str) -> None:
        self._redis.delete(self._prefix + call_sid)

    def idle_states(self, min_idle: float):
        """States untouched for at least `min_idle` seconds: every save resets
        a state's TTL, so what is left of it says how long it has been idle."""
        keys = [k for k in self._redis.scan_iter(match=self._prefix + "*", count=500)
                if not k.endswith(":lock")]
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

    @contextlib.contextmanager
    def hold(self, call_sid: str):
        """One turn of a call at a time across every worker: a duplicated
        webhook waits, then finds the first one's answer."""
        key, lock_key = self._prefix + call_sid, self._prefix + call_sid + ":lock"
        token = uuid.uuid4().hex
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            got = self._acquire(keys=[key, lock_key], args=[token, LOCK_TIMEOUT * 1000])
            if got[0] == 1:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"call {call_sid} is busy")
            time.sleep(0.005)
        slot = Slot(None if got[1] is None else CallState.from_json(got[1]))

        def save(state: CallState) -> None:
            self._save_release(keys=[key, lock_key], args=[state.to_json(), self._ttl, token])
            slot.saved = True

        slot.save = save
        try:
            yield slot
        finally:
            if not slot.saved:
                with contextlib.suppress(Exception):
                    self._release(keys=[lock_key], args=[token])


def store_from_settings(settings):
    if settings.redis_url:
        import redis

        return RedisCallStore(redis.Redis.from_url(settings.redis_url, decode_responses=True))
    return MemoryCallStore()
