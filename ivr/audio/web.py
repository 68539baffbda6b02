"""Serves audio/ to Twilio, which fetches <Play> URLs with a plain GET and no
signature: these routes are outside the signed /ivr/ webhooks on purpose, and
serve only what a manifest lists (the URL never becomes a file path).

Static files are named by the hash of what they say, so they never change
under their URL: cached for a year, immutable. A joined read-back carries the
library's version in its URL (?v=): with the current one it is as immutable;
an old one is answered with the current audio but not cached.
"""
from __future__ import annotations

import threading

from flask import Blueprint, Response, abort, current_app, request, send_file

from ivr.audio.library import LANGUAGE, AudioLibrary
from ivr.audio.manifest import ManifestError
from ivr.readers import ReaderError

bp = Blueprint("audio", __name__, url_prefix="/audio")
IMMUTABLE = "public, max-age=31536000, immutable"
MIMETYPE = "audio/wav"  # Twilio accepts audio/wav; any other type is error 13420
_lock = threading.Lock()


def init_app(app) -> None:
    app.extensions["audio"] = {}  # language -> AudioLibrary, loaded on first use
    app.register_blueprint(bp)


def load_library(app, language: str) -> AudioLibrary:
    """The app's library for `language` (ManifestError if it has none)."""
    libraries = app.extensions["audio"]
    if language not in libraries:
        library = AudioLibrary(app.extensions["settings"].audio_dir, language)
        with _lock:
            libraries.setdefault(language, library)
    return libraries[language]


def _library(language: str) -> AudioLibrary:
    if not LANGUAGE.fullmatch(language):
        abort(404)
    try:
        return load_library(current_app, language)
    except (ManifestError, ReaderError):  # no such language here
        abort(404)


@bp.get("/<language>/<name>")
def recording(language: str, name: str):
    library = _library(language)
    if request.args.get("end") == "turn":
        # The last sound of a turn: without its closing pause (library.turn_end).
        blob = library.turn_end(name)
        if blob is None:
            abort(404)
        response = Response(blob, mimetype=MIMETYPE)
        response.headers["Cache-Control"] = IMMUTABLE
        return response
    path = library.static_path(name)
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype=MIMETYPE, conditional=True, max_age=31536000)
    response.headers["Cache-Control"] = IMMUTABLE
    return response


@bp.get("/<language>/<kind>/<token>.wav")
def read_back(language: str, kind: str, token: str):
    library = _library(language)
    blob = library.joined(kind, token)
    if blob is None:
        abort(404)
    response = Response(blob, mimetype=MIMETYPE)
    response.headers["Cache-Control"] = IMMUTABLE if request.args.get("v") == library.version \
        else "no-cache"
    return response
