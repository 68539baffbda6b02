"""Who is logged in: sessions the bank keeps, so it can end them at once.

A browser holds only a random token; everything else (who, which accounts,
since when) stays here, keyed by the token's digest, so neither a copied
cookie after log-out nor a stolen store gives a working session. Each session
belongs to a principal ("credential:<id>" for a customer's log-in, "agent:<id>"
for an agent): log-out, a credential blocked after failed NIPs, an agent
locked out or given a new password end every session of that principal at
once, on every channel, a call in progress included.

A session ends at the latest `lifetime` after its log-in (never moved by use),
or after `idle` seconds without a request. Two stores: Redis when REDIS_URL is
set (every worker sees the same sessions), the bank's database otherwise.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import secrets
import time
from typing import Callable, Protocol

import redis
from sqlalchemy import delete, update

from banking_core.models import LoginSession

# A session's last-seen time is written at most this often: the desk polls
# every 3 s, and idle limits are minutes long.
TOUCH_EVERY = 15
MAX_LIFETIME = 24 * 60 * 60  # no session, on any channel, outlives a day
ENDED_GRACE = 30 * 60  # an ended session is remembered this long, to say why it ended
SWEEP_ONE_IN = 50  # one new session in this many sweeps the ended ones


def credential_principal(credential_id: int) -> str:
    return f"credential:{credential_id}"


def customer_principal(principal) -> str:
    """The session owner for a customer's log-in: the credential used, so a
    block of that credential ends exactly the sessions it opened."""
    if principal.credential_id is None:
        raise ValueError("only a log-in with a credential opens a session")
    return credential_principal(principal.credential_id)


def agent_principal(agent_id: int) -> str:
    return f"agent:{agent_id}"


def digest(token: str) -> str:
    """What the store keys a session by: the token itself is never stored."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class SessionRecord:
    principal: str
    channel: str  # web | desk | phone
    data: str  # the channel's own, serialized by it
    created_at: float
    expires_at: float  # absolute: log-in + lifetime
    seen_at: float
    idle: int  # seconds

    def alive(self, now: float) -> bool:
        return now < self.expires_at and now - self.seen_at <= self.idle

    def ended_by_idleness(self, now: float) -> bool:
        return now < self.expires_at and now - self.seen_at > self.idle


class SessionStore(Protocol):
    def open(self, principal: str, channel: str, *, lifetime: int, idle: int,
             data: str = "") -> str: ...
    def get(self, token: str) -> SessionRecord | None:
        """The session as stored, alive or not yet swept (check `alive`);
        None once it was ended."""
    def save(self, token: str, data: str | None = None) -> None: ...
    def end(self, token: str) -> None: ...
    def end_all(self, principal: str) -> int: ...


class _Clocked:
    def __init__(self, clock: Callable[[], float] = time.time):
        self.clock = clock

    def _new(self, principal, channel, lifetime, idle, data) -> tuple[str, SessionRecord]:
        if not 0 < lifetime <= MAX_LIFETIME or idle <= 0:
            raise ValueError("a session needs a lifetime of at most a day and an idle limit")
        now = self.clock()
        record = SessionRecord(principal=principal, channel=channel, data=data,
                               created_at=now, expires_at=now + lifetime, seen_at=now,
                               idle=idle)
        return secrets.token_urlsafe(32), record


class DatabaseSessionStore(_Clocked):
    """Sessions in the bank's own database (the default: nothing to install)."""

    def __init__(self, bank, clock: Callable[[], float] = time.time):
        super().__init__(clock)
        self.bank = bank

    def open(self, principal, channel, *, lifetime, idle, data=""):
        token, record = self._new(principal, channel, lifetime, idle, data)
        with self.bank.unit_of_work() as uow:
            uow.session.add(LoginSession(
                id=digest(token), principal=principal, channel=channel, data=data,
                created_at=_when(record.created_at), expires_at=_when(record.expires_at),
                idle_until=_when(record.seen_at + idle), idle_seconds=idle))
            if secrets.randbelow(SWEEP_ONE_IN) == 0:
                _sweep(uow.session, self.clock())
            uow.commit()
        return token

    def get(self, token):
        with self.bank.unit_of_work() as uow:
            row = uow.session.get(LoginSession, digest(token))
            if row is None:
                return None
            return SessionRecord(
                principal=row.principal, channel=row.channel, data=row.data,
                created_at=row.created_at.timestamp(), expires_at=row.expires_at.timestamp(),
                seen_at=row.idle_until.timestamp() - row.idle_seconds, idle=row.idle_seconds)

    def save(self, token, data=None):
        now = self.clock()
        with self.bank.unit_of_work() as uow:
            row = uow.session.get(LoginSession, digest(token))
            if row is None:
                return
            values = {"idle_until": _when(now + row.idle_seconds)}
            if data is not None:
                values["data"] = data
            # An UPDATE, never an insert: a session ended meanwhile stays ended.
            uow.session.execute(update(LoginSession)
                                .where(LoginSession.id == digest(token)).values(**values))
            uow.commit()

    def end(self, token):
        with self.bank.unit_of_work() as uow:
            uow.session.execute(delete(LoginSession).where(LoginSession.id == digest(token)))
            uow.commit()

    def end_all(self, principal):
        with self.bank.unit_of_work() as uow:
            done = uow.session.execute(
                delete(LoginSession).where(LoginSession.principal == principal))
            _sweep(uow.session, self.clock())
            uow.commit()
            return done.rowcount


class RedisSessionStore(_Clocked):
    """Sessions in Redis: every worker sees them, and each expires by itself.

    A session is one key holding its record (expiring with it); a principal's
    set lists its sessions' keys so they can all be ended in one atomic step."""

    # Ending all of a principal's sessions is one script, so a log-in that
    # lands meanwhile is either ended too or added after it, never half-seen.
    _END_ALL = """
    local keys = redis.call('SMEMBERS', KEYS[1])
    for _, key in ipairs(keys) do redis.call('DEL', key) end
    redis.call('DEL', KEYS[1])
    return #keys
    """

    def __init__(self, client, *, prefix: str = "linea:", clock=time.time):
        super().__init__(clock)
        self.redis = client
        self.prefix = prefix
        self._end_all = client.register_script(self._END_ALL)

    def _key(self, token: str) -> str:
        return f"{self.prefix}session:{digest(token)}"

    def _set_key(self, principal: str) -> str:
        return f"{self.prefix}sessions:{principal}"

    def open(self, principal, channel, *, lifetime, idle, data=""):
        token, record = self._new(principal, channel, lifetime, idle, data)
        key, members = self._key(token), self._set_key(principal)
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, json.dumps(dataclasses.asdict(record)), ex=_ttl(record))
            pipe.sadd(members, key)
            # Renewed to the longest any session may live, so the set always
            # outlives every member it lists.
            pipe.expire(members, MAX_LIFETIME + 60)
            pipe.execute()
        return token

    def get(self, token):
        return self.from_stored(self.redis.get(self._key(token)))

    def stored_at(self, token: str) -> str:
        """The Redis key the session of `token` is kept under (the digest of
        the token, never the token): a phone call watches it, reading it in
        the same round trip as its state (ivr/state.py)."""
        return self._key(token)

    @staticmethod
    def from_stored(raw):
        """The record kept as `raw` (what `stored_at`'s key holds), or None."""
        return None if raw is None else SessionRecord(**json.loads(raw))

    def save(self, token, data=None):
        key = self._key(token)
        raw = self.redis.get(key)
        if raw is None:
            return
        record = dataclasses.replace(SessionRecord(**json.loads(raw)), seen_at=self.clock())
        if data is not None:
            record = dataclasses.replace(record, data=data)
        # XX: only if it still exists, so a session ended meanwhile stays ended.
        self.redis.set(key, json.dumps(dataclasses.asdict(record)), ex=_ttl(record), xx=True)

    def end(self, token):
        key = self._key(token)
        raw = self.redis.get(key)
        self.redis.delete(key)
        if raw is not None:
            self.redis.srem(self._set_key(json.loads(raw)["principal"]), key)

    def end_all(self, principal):
        return int(self._end_all(keys=[self._set_key(principal)]))


def store_from_settings(bank, settings) -> SessionStore:
    """Redis when REDIS_URL is set (shared by every worker, like the calls'
    state), the bank's database otherwise."""
    if settings.redis_url:
        return RedisSessionStore(redis.Redis.from_url(settings.redis_url,
                                                      decode_responses=True))
    return DatabaseSessionStore(bank)


def _ttl(record: SessionRecord) -> int:
    """Redis drops a session by itself a grace period after it ends."""
    ends = min(record.expires_at, record.seen_at + record.idle)
    return max(int(ends - record.seen_at) + ENDED_GRACE, 1)


def _sweep(session, now: float) -> None:
    """Ended sessions go now and then with new ones and with log-outs, so the
    table holds about the live ones without a job of its own. A grace period
    lets a returning customer be told the session ended for inactivity."""
    cutoff = _when(now - ENDED_GRACE)
    session.execute(delete(LoginSession).where(
        (LoginSession.expires_at < cutoff) | (LoginSession.idle_until < cutoff)))


def _when(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc)
