"""CSRF: every form and every JSON POST a browser sends carries its session's
token (Flask-WTF). One protector for the whole app: the browser channels
share it; callers that prove themselves otherwise are exempted by name
(`web.exempt`)."""
from __future__ import annotations

from flask_wtf.csrf import CSRFError, CSRFProtect

from web.hooks import replace_app_hook, unless_blueprint

__all__ = ["CSRFError", "csrf", "exempt_blueprint", "init_app"]

csrf = CSRFProtect()
# Blueprints exempted (`exempt_blueprint`), per app.
EXEMPT = "csrf.exempt_blueprints"


def init_app(app) -> None:
    app.config.update(WTF_CSRF_TIME_LIMIT=None)  # the token lives as long as the session
    csrf.init_app(app)
    # Flask-WTF's check runs for every request and then finds an exempt
    # blueprint exempt; for those it does not run at all (web/hooks.py).
    exempt = app.extensions[EXEMPT] = set()
    replace_app_hook(app.before_request_funcs,
                     lambda f: getattr(f, "__module__", "") == "flask_wtf.csrf",
                     lambda hook: unless_blueprint(hook, exempt), name="Flask-WTF")


def exempt_blueprint(app, blueprint) -> None:
    """No CSRF token is asked of requests to `blueprint`."""
    csrf.exempt(blueprint)
    app.extensions[EXEMPT].add(blueprint.name)
