"""A menu turn's reply into TwiML, with twilio's VoiceResponse: gather keys,
speak, or hang up. Each text is spoken by the app's speaker (ivr/speaker.py),
in the configured prompt mode. A transfer is not a reply rendered here: every
transfer goes through the one transfer path (ivr/transfer.py)."""
from __future__ import annotations

from flask import Response
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.interpreter import Reply
from ivr.speaker import Speaker


def render(reply: Reply, *, action_url: str, no_input_url: str, speaker: Speaker,
           language: str | None = None) -> str:
    """A reply that gathers keys, speaks, or hangs up, in `language` (by
    default the call's). Transfers are not rendered here: they go through the
    one transfer path (ivr/transfer.py)."""
    if reply.transfer:
        raise ValueError("a transfer is answered by ivr.transfer.transfer_twiml")
    response = VoiceResponse()
    if reply.gather is not None:
        spec = reply.gather
        options = dict(input="dtmf", action=action_url, method="POST", timeout=spec.timeout,
                       finish_on_key=spec.finish_on_key)
        if spec.num_digits:
            options["num_digits"] = spec.num_digits
        gather = Gather(**options)
        speaker.speak_turn(gather, spec.says, language, before_input=True)
        response.append(gather)
        # With no input Twilio skips the action and falls through to here.
        response.redirect(no_input_url, method="POST")
        return str(response)
    speaker.speak_turn(response, reply.says, language)
    if reply.hangup:
        response.hangup()
    return str(response)


def twiml_response(xml: str) -> Response:
    return Response(xml, mimetype="text/xml")
