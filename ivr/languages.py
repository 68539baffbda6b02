"""Which language a request's call speaks.

A call carries its language in its state (`CallState.language`). The turns
(ivr/webhooks.py) hold that state and say so with `remember`; every other
route about a caller's call — in line, with an agent, keying a NIP, the
technical-problem answer — reads it from the store once per request. An
agent's softphone leg, or a call whose state is gone, gets the configured
IVR_LANGUAGE.
"""
from __future__ import annotations

from flask import g, request

from ivr.runtime import CALL_SID, runtime


def remember(state) -> str:
    """The language of `state`'s call, kept for the rest of this request."""
    g.ivr_language = (state.language if state is not None else None) or runtime().language
    return g.ivr_language


def call_language() -> str:
    if "ivr_language" not in g:
        sid = request.form.get("CallSid", "")
        remember(runtime().store.load(sid) if CALL_SID.match(sid) else None)
    return g.ivr_language
