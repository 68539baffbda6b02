"""Conexión Personal: the bank's web page where customers pay the same services
as on the phone line, through the same banking core."""
from __future__ import annotations

from flask_wtf.csrf import CSRFProtect

from web_fallback.server_sessions import Channel

csrf = CSRFProtect()
# However active, a customer logs in again after this long (from the log-in).
SESSION_LIFETIME = 8 * 60 * 60


def init_app(app) -> None:
    from ivr.blueprint import bp as ivr_webhooks
    from web_fallback import views

    app.config.update(WTF_CSRF_TIME_LIMIT=None)  # the token lives as long as the session
    settings = app.extensions["settings"]
    app.session_interface.channels.append(Channel(
        name="web", path="/conexion", cookie="conexion_sesion",
        idle=settings.web_session_idle_minutes * 60,
        lifetime=SESSION_LIFETIME))
    csrf.init_app(app)
    # Twilio's webhooks are authenticated by their signature, not a browser token.
    csrf.exempt(ivr_webhooks)
    app.register_blueprint(views.bp)
