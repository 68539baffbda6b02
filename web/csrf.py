"""CSRF: every form and every JSON POST a browser sends carries its session's
token (Flask-WTF). One protector for the whole app: the browser channels
share it; callers that prove themselves otherwise are exempted by name
(`web.exempt`)."""
from __future__ import annotations

from flask_wtf.csrf import CSRFError, CSRFProtect

__all__ = ["CSRFError", "csrf", "init_app"]

csrf = CSRFProtect()


def init_app(app) -> None:
    app.config.update(WTF_CSRF_TIME_LIMIT=None)  # the token lives as long as the session
    csrf.init_app(app)
