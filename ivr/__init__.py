"""Línea Directa's phone side: Twilio's webhooks, the menu interpreter and the
recorded prompts it plays. `init_app` registers all of it on an app."""
from __future__ import annotations


def init_app(app, *, call_store=None, call_control=None) -> None:
    # Imported here, not at the top: the tools that only read the IVR's
    # prompts and menus (the audio build, the QA tools) import this package
    # too, and must not pull in Flask, Twilio and the bank with it.
    from ivr import webhooks
    from ivr.audio import web as audio_web

    audio_web.init_app(app)
    webhooks.init_app(app, store=call_store, call_control=call_control)
