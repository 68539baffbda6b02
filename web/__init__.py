"""The web layer every channel for people shares (Conexión Personal, the
agents' desk): server-side sessions, CSRF, the security headers, the rate
limits on log-ins, the payment form, codes in words, the Jinja filters, the
base template and CSS, and the error pages.

It imports the banking core and config, never a channel nor the IVR: each
channel tells it about itself (`add_channel`), and the composition root names
the blueprints whose callers are machines (`exempt`)."""
from __future__ import annotations

from flask import Blueprint

# The shared templates (base.html, error.html) and CSS (/web/static/…).
bp = Blueprint("web", __name__, url_prefix="/web", template_folder="templates",
               static_folder="static")


def init_app(app) -> None:
    """Before the channels and the IVR: sessions, headers, limits, CSRF, filters
    and error pages are the app's, whichever part answers."""
    # Imported here: the IVR's operations import web.login_limits, and must
    # not pull in Flask-WTF and the templates with it.
    from web import channels, csrf, errors, filters, headers, login_limits, sessions

    settings = app.extensions["settings"]
    # Server-side sessions for the browser channels, each of which adds its
    # own (path, cookie, limits) with `add_channel`; none for Twilio's
    # webhooks, whose state lives in the call store.
    app.session_interface = sessions.ServerSideSessions([], secure=settings.web_cookie_secure)
    app.extensions["web"] = channels.Registry()
    headers.init_app(app)
    login_limits.init_app(app, settings)
    csrf.init_app(app)
    filters.init_app(app)
    errors.init_app(app)
    app.register_blueprint(bp)


def add_channel(app, channel) -> None:
    """A browser channel (web.channels.BrowserChannel), registering: its
    sessions, and how its error pages look and lead back."""
    app.session_interface.channels.append(channel.session)
    app.extensions["web"].channels.append(channel)


def exempt(app, blueprint) -> None:
    """A blueprint whose callers are machines that prove themselves otherwise
    (Twilio's webhooks, by their signature): no CSRF token is asked of them,
    and their errors are left to their own handlers, never a page for people."""
    from web.csrf import exempt_blueprint

    exempt_blueprint(app, blueprint)
    app.extensions["web"].add_machine_blueprint(blueprint)
    # Nor are they rate-limited per address: Flask-Limiter's check costs every
    # signed turn a fraction of a millisecond for limits no webhook route has
    # (the phone's log-in limits count per caller and credential, in the IVR),
    # so it does not even run for them.
    from web import login_limits

    login_limits.login_limits_of(app).limiter.exempt(blueprint)
    login_limits.not_limited(app, blueprint.name)
