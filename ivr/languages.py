"""Which language a request's call speaks.

A call carries its language in its state (`CallState.language`). The turns
(ivr/webhooks.py) hold that state and say so with `remember`; every other
route about a caller's call — in line, with an agent, keying a NIP, the
technical-problem answer — reads it from the store once per request. An
agent's softphone leg, or a call whose state is gone, gets the configured
IVR_LANGUAGE.
"""
from __future__ import annotations

import structlog
from flask import g, request

from ivr.runtime import CALL_SID, runtime

log = structlog.get_logger("ivr")


def remember(state, ivr=None) -> str:
    """The language of `state`'s call, kept for the rest of this request.
    `ivr`: the runtime, when the caller holds it already."""
    language = (state.language if state is not None else None) or \
        (ivr or runtime()).language
    g.ivr_language = language
    return language


def call_language() -> str:
    if "ivr_language" not in g:
        sid = request.form.get("CallSid", "")
        try:
            state = runtime().store.load(sid) if CALL_SID.match(sid) else None
        except Exception as exc:  # noqa: BLE001 - the store is down: say it all the same
            # The technical-problem answer (ivr/blueprint.py) asks this when the
            # store is why the turn failed: the line's own language, not a 500
            # that Twilio would turn into its "application error" and a hang-up.
            log.warning("ivr_language_unknown", call=sid, error=type(exc).__name__)
            state = None
        remember(state)
    return g.ivr_language
