"""Refusals in Spanish: every HTTP error a person's browser gets (400, 401,
403, 404, 405, 413, 429, 500…) is a page of the channel it happened in, with
its header, what happened and a way back — to the channel's home for someone
logged in, to its log-in page for anyone else, to the front page outside any
channel. A `.json` endpoint (the desk's polls) gets JSON instead; blueprints
whose callers are machines (`web.exempt`: Twilio's webhooks) keep their own
error handling, untouched.

Registered for HTTPException as a class, never by status code: Flask prefers
an app handler for a code over a blueprint's handler for a class, and the
IVR's blueprint handles `Exception` itself."""
from __future__ import annotations

from flask import current_app, jsonify, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from web import messages
from web.login_limits import minutes_to_wait, retry_after

FRONT_PAGE_TEXT = "Ir a la página principal de Línea Directa"


def init_app(app) -> None:
    app.register_error_handler(HTTPException, _handle)


def _handle(exc: HTTPException):
    if current_app.extensions["web"].for_machines(request):
        return exc  # theirs to answer (the IVR's own handler, or the bare status)
    return error_response(exc)


def error_response(exc: HTTPException):
    """The refusal as this request's channel shows it. Also for a channel's own
    handler that decides a refusal is the answer (a stale form)."""
    status = exc.code or 500
    # What the status itself requires (405's Allow), never its HTML type.
    headers = {name: value for name, value in exc.get_headers()
               if name.lower() != "content-type"}
    heading, text = messages.error_page(status)
    if status == 429:
        seconds = retry_after(exc)
        headers["Retry-After"] = str(seconds)
        text = messages.too_many_attempts(minutes_to_wait(seconds))
    if request.path.endswith(".json"):
        # Scripts read the status and a code, as the desk's polls already do.
        return jsonify(error=exc.name.lower().replace(" ", "_")), status, headers
    channel = current_app.extensions["web"].channel_of(request)
    if channel is None:
        layout, back_url, back_text = "base.html", request.script_root + "/", FRONT_PAGE_TEXT
    else:
        logged_in = getattr(session, "principal", None) is not None
        way_back = channel.home if logged_in else channel.login
        layout, back_url, back_text = channel.layout, url_for(way_back.endpoint), way_back.text
    page = render_template("error.html", layout=layout, heading=heading, message=text,
                           back_url=back_url, back_text=back_text)
    return page, status, headers

