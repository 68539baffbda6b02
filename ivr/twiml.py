"""Replies into TwiML, with twilio's VoiceResponse.

Each text is spoken by Twilio's <Say>, or, given a `player` (play mode, see
ivr/audio/player.py), played from our recordings."""
from __future__ import annotations

from flask import Response
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.interpreter import Reply
from ivr.prompts import by_language


def render(reply: Reply, *, action_url: str, no_input_url: str, language: str, voice: str,
           player=None) -> str:
    """A reply that gathers keys, speaks, or hangs up. Transfers are not rendered
    here: they go through the one transfer path (ivr/transfer.py)."""
    if reply.transfer:
        raise ValueError("a transfer is answered by ivr.transfer.transfer_twiml")
    def speak(verb, text):
        if player is None:
            for words, said_in, said_by in by_language(text, language, voice):
                verb.say(words, language=said_in, voice=said_by)
        else:
            player.speak(verb, text, language=language, voice=voice)

    response = VoiceResponse()
    if reply.gather is not None:
        spec = reply.gather
        options = dict(input="dtmf", action=action_url, method="POST", timeout=spec.timeout,
                       finish_on_key=spec.finish_on_key)
        if spec.num_digits:
            options["num_digits"] = spec.num_digits
        gather = Gather(**options)
        for text in spec.says:
            speak(gather, text)
        response.append(gather)
        # With no input Twilio skips the action and falls through to here.
        response.redirect(no_input_url, method="POST")
        return str(response)
    for text in reply.says:
        speak(response, text)
    if reply.hangup:
        response.hangup()
    return str(response)


def twiml_response(xml: str) -> Response:
    return Response(xml, mimetype="text/xml")
