"""Browser sessions kept by the bank: the cookie holds a random token, nothing else.

Flask's default session is a signed cookie: whoever holds a copy keeps the
session after log-out, nobody can end it from the server, and anyone can read
what it says. Here the session's contents live in the bank's session store
(`banking_core/sessions.py`: Redis or the database) under the token's digest;
a log-out, a blocked credential or an agent's lockout deletes them there, and
the next request with the old cookie finds nothing.

Each browser channel has its own cookie, scoped to its own path, with its own
idle limit; a token of one channel is worthless on the other. A log-in always
draws a new token (no session fixation) and its lifetime is counted from the
log-in, never moved by use. Twilio's webhooks and the front page get no
session at all.
"""
from __future__ import annotations

import dataclasses

from flask import current_app, request, session
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from banking_core.sessions import TOUCH_EVERY

_serializer = TaggedJSONSerializer()


@dataclasses.dataclass(frozen=True)
class Channel:
    name: str  # as the session store records it: web | desk
    path: str  # URL prefix, and the cookie's path
    cookie: str
    idle: int  # seconds without a request that end the session
    lifetime: int  # seconds from log-in that end it however active


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, data=None, *, channel: Channel, token: str | None = None,
                 principal: str | None = None, seen_at: float = 0.0, ended: str | None = None):
        def on_update(self):
            self.modified = True

        super().__init__(data or {}, on_update)
        self.channel = channel
        self.token = token
        self.principal = principal
        self.seen_at = seen_at
        # Why the session the cookie named is over ("idle" or "ended"): the
        # page can say so. None when there was none.
        self.ended = ended
        self.rotate = False
        self.modified = False


class ServerSideSessions(SessionInterface):
    def __init__(self, channels: list[Channel], *, secure: bool):
        self.channels = channels
        self.secure = secure

    def _channel(self, path: str) -> Channel | None:
        for channel in self.channels:
            if path == channel.path or path.startswith(channel.path + "/"):
                return channel
        return None

    def open_session(self, app, request):
        channel = self._channel(request.path)
        if channel is None:
            return self.make_null_session(app)
        token = request.cookies.get(channel.cookie, "")
        if not token:
            return ServerSession(channel=channel)
        store = app.extensions["bank"].sessions
        record = store.get(token) if len(token) <= 64 else None
        if record is None or record.channel != channel.name:
            return ServerSession(channel=channel, ended="ended")
        now = store.clock()
        if not record.alive(now):
            store.end(token)
            return ServerSession(channel=channel,
                                 ended="idle" if record.ended_by_idleness(now) else "ended")
        try:
            data = _serializer.loads(record.data) if record.data else {}
        except ValueError:
            data = {}
        return ServerSession(data, channel=channel, token=token, principal=record.principal,
                             seen_at=record.seen_at)

    def save_session(self, app, session, response):
        if not isinstance(session, ServerSession):
            return  # the null session of a page that keeps none
        channel = session.channel
        store = app.extensions["bank"].sessions
        if session.rotate and session.token:
            store.end(session.token)
            session.token = None
        if session.token is None:
            if not session and session.principal is None:
                if request.cookies.get(channel.cookie):
                    response.delete_cookie(channel.cookie, path=channel.path)
                return
            token = store.open(session.principal, channel.name, lifetime=channel.lifetime,
                               idle=channel.idle, data=_serializer.dumps(dict(session)))
            # No expiry on the cookie itself: the browser forgets it when
            # closed, and the server decides when the session is over anyway.
            response.set_cookie(channel.cookie, token, path=channel.path, httponly=True,
                                secure=self.secure, samesite="Lax")
            response.vary.add("Cookie")
            return
        if session.modified:
            store.save(session.token, _serializer.dumps(dict(session)))
        elif store.clock() - session.seen_at >= TOUCH_EVERY:
            store.save(session.token)  # still in use: the idle limit starts again


def log_in(principal: str) -> None:
    """This browser is now `principal`'s: a new token, a clean session (and so
    a new CSRF token), the lifetime counted from now."""
    session.clear()
    session.rotate = True
    session.principal = principal
    session.modified = True


def log_out() -> None:
    """End every session of whoever is logged in here, on every channel (the
    bank's rule for a log-out), then forget this browser's."""
    if session.principal:
        current_app.extensions["bank"].sessions.end_all(session.principal)
    session.clear()
    session.rotate = True
    session.principal = None
