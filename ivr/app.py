"""The application factory: everything is built here, nothing at import time."""
from __future__ import annotations

from flask import Flask

from banking_core.bank import Bank, build_bank
from config import Settings, headers
from config.logging import configure_logging
from web_fallback.server_sessions import ServerSideSessions


def create_app(settings: Settings | None = None, *, bank: Bank | None = None,
               call_store=None, call_control=None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging(settings)
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=64 * 1024,  # no form here needs more; refuse floods early
    )
    # Server-side sessions for the browser channels, each of which adds its
    # own (path, cookie, limits) as it registers; none for Twilio's webhooks,
    # whose state lives in the call store.
    app.session_interface = ServerSideSessions([], secure=settings.web_cookie_secure)
    headers.init_app(app)
    app.extensions["settings"] = settings
    app.extensions["bank"] = bank or build_bank(settings)

    from ivr import login_limits, site, url_converters, webhooks
    login_limits.init_app(app, settings)
    from ivr.audio import web as audio_web
    url_converters.init_app(app)
    app.register_blueprint(site.bp)
    audio_web.init_app(app)
    webhooks.init_app(app, store=call_store, call_control=call_control)
    import agent_desk
    import web_fallback
    web_fallback.init_app(app)
    agent_desk.init_app(app)
    login_limits.limit_login_views(app, settings)

    from ivr.commands import bank_cli, calls_cli, db_cli, notify_cli, serve_command
    app.cli.add_command(db_cli)
    app.cli.add_command(calls_cli)
    app.cli.add_command(bank_cli)
    app.cli.add_command(notify_cli)
    app.cli.add_command(serve_command)

    from ivr.qa.commands import dial_command, replay_command, transcripts_cli
    app.cli.add_command(replay_command)
    app.cli.add_command(transcripts_cli)
    app.cli.add_command(dial_command)
    return app


def get_bank(app: Flask) -> Bank:
    return app.extensions["bank"]


def get_settings(app: Flask) -> Settings:
    return app.extensions["settings"]
