"""The application factory, the composition root: the one place that knows
every part of the system and wires them together (settings, bank, sessions,
headers, each channel's blueprints and commands). Nothing is built at import
time; the runtime's packages never import this one."""
from __future__ import annotations

import gc

import click
import werkzeug.wrappers
from flask import Flask, Request, current_app
from flask.cli import ScriptInfo

import agent_desk
import ivr
import web
import web_fallback
from banking_core import cli as operator_cli
from banking_core.bank import Bank, build_bank
from config import Settings
from config.logging import configure_logging
from ivr.blueprint import bp as ivr_webhooks
from linea_directa import biller_api, ops, site, url_converters


class LineaRequest(Request):
    """Flask's request, reading a form without looking the app up. Flask's
    reads MAX_CONTENT_LENGTH and the form limits through `current_app` (a
    context-local proxy, about 10,000 instructions a look-up) four to six
    times a form, and twice more to ask whether the app is in debug mode;
    a Twilio turn is a form. LineaDirecta.request_context gives each request
    the app's values as it is made (Flask 3.1's per-request limits)."""

    app_debug = False

    def _load_form_data(self) -> None:
        if self.app_debug:  # Flask's debug helper: a clearer KeyError for files
            super()._load_form_data()
        else:
            werkzeug.wrappers.Request._load_form_data(self)


class LineaDirecta(Flask):
    """Flask, with two costs taken off every request (bench/README.md):

    - Flask asks, for each hook and view a request runs (about seven on a
      Twilio turn), whether it is a coroutine function, through `inspect`;
      the answer for a given function never changes, so it is found once.
      The memo is bounded: the app's hooks and views are a few dozen; past
      the bound (functions made per request, such as `after_this_request`
      callbacks) each is asked again, as Flask does.
    - The request's form limits are set on it from the config as it is
      made (LineaRequest), instead of read through `current_app` each time."""

    request_class = LineaRequest
    _MEMO_SIZE = 512

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._synced: dict = {}

    def request_context(self, environ):
        context = super().request_context(environ)
        request, config = context.request, self.config
        request.max_content_length = config["MAX_CONTENT_LENGTH"]
        request.max_form_memory_size = config["MAX_FORM_MEMORY_SIZE"]
        request.max_form_parts = config["MAX_FORM_PARTS"]
        request.app_debug = self.debug
        return context

    def ensure_sync(self, func):
        synced = self._synced.get(func)
        if synced is None:
            synced = super().ensure_sync(func)
            if len(self._synced) < self._MEMO_SIZE:
                self._synced[func] = synced
        return synced


def create_app(settings: Settings | None = None, *, bank: Bank | None = None,
               call_store=None, call_control=None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging(settings)
    app = LineaDirecta(__name__, instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=64 * 1024,  # no form here needs more; refuse floods early
    )
    app.extensions["settings"] = settings
    app.extensions["bank"] = bank or build_bank(settings)

    # The web layer first: sessions, headers, log-in limits (the IVR's
    # operations use them too), CSRF and error pages are the whole app's.
    web.init_app(app)
    url_converters.init_app(app)  # digits 0-9 only in every URL's ids
    app.register_blueprint(site.bp)
    ops.init_app(app)  # /healthz, /readyz, /metrics
    biller_api.init_app(app)  # /api/billers/v1/…, signed by each biller's key
    ivr.init_app(app, call_store=call_store, call_control=call_control)
    # Twilio's webhooks are authenticated by their signature, not a browser
    # token, and answer their errors in TwiML.
    web.exempt(app, ivr_webhooks)
    web_fallback.init_app(app)
    agent_desk.init_app(app)
    operator_cli.register(app.cli, bank=lambda: get_bank(_commands_app()),
                          settings=lambda: get_settings(_commands_app()))
    return app


def serving_app() -> Flask:
    """create_app() for a long-lived server (gunicorn, `ivr serve`, wsgi.py):
    what start-up built (about 180,000 objects: the menu, the prompts, the
    libraries) is moved out of the garbage collector's reach, where it stays
    for the process's life anyway. Otherwise each full collection walks all
    of it, about 77 ms on this kind of machine, stalling the turn that
    triggers it, and under gunicorn's preload touches every page the workers
    share with the master. Python's documented use of gc.freeze()
    (https://docs.python.org/3/library/gc.html#gc.freeze). Not for tests,
    which build many apps in one process: each would be kept for good."""
    app = create_app()
    gc.collect()  # what start-up left as garbage goes now, not frozen with the rest
    gc.freeze()
    return app


def _commands_app() -> Flask:
    """The app a command runs for: the one in context (`ivr` pushes it), or
    the one the command line was started with (a test's CLI runner)."""
    if current_app:
        return current_app._get_current_object()
    return click.get_current_context().ensure_object(ScriptInfo).load_app()


def get_bank(app: Flask) -> Bank:
    return app.extensions["bank"]


def get_settings(app: Flask) -> Settings:
    return app.extensions["settings"]
