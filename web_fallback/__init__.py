"""Conexión Personal: the bank's web page where customers pay the same services
as on the phone line, through the same banking core."""
from __future__ import annotations

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


def init_app(app) -> None:
    from ivr.blueprint import bp as ivr_webhooks
    from web_fallback import views

    app.config.update(
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session does
        # The cookie's own lifetime caps a session however active; inactivity
        # ends it much sooner (web_fallback/session.py).
        PERMANENT_SESSION_LIFETIME=8 * 60 * 60,
    )
    csrf.init_app(app)
    # Twilio's webhooks are authenticated by their signature, not a browser token.
    csrf.exempt(ivr_webhooks)
    app.register_blueprint(views.bp)
