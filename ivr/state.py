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

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"))

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

    @contextlib.contextmanager
    def lock(self, call_sid: str):
        with self._guard:
            lock = self._locks.setdefault(call_sid, threading.Lock())
        if not lock.acquire(timeout=LOCK_TIMEOUT):
            raise TimeoutError(f"call {call_sid} is busy")
        try:
            yield
        finally:
            lock.release()


class RedisCallStore:
    def __init__(self, client, *, ttl: int = STATE_TTL, prefix: str = "ivr:call:"):
        self._redis, self._ttl, self._prefix = client, ttl, prefix

    def load(self, call_sid: str) -> CallState | None:
        text = self._redis.get(self._prefix + call_sid)
        return None if text is None else CallState.from_json(text)

    def save(self, state: CallState) -> None:
        self._redis.set(self._prefix + state.call_sid, state.to_json(), ex=self._ttl)

    def delete(self, call_sid: str) -> None:
        self._redis.delete(self._prefix + call_sid)

    @contextlib.contextmanager
    def lock(self, call_sid: str):
        # redis-py's lock: one turn of a call at a time across every worker, so
        # a duplicated webhook waits and then finds the first one's answer.
        lock = self._redis.lock(self._prefix + call_sid + ":lock", timeout=LOCK_TIMEOUT,
                                blocking_timeout=LOCK_TIMEOUT)
        if not lock.acquire():
            raise TimeoutError(f"call {call_sid} is busy")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                lock.release()


def store_from_settings(settings):
    if settings.redis_url:
        import redis

        return RedisCallStore(redis.Redis.from_url(settings.redis_url, decode_responses=True))
    return MemoryCallStore()
