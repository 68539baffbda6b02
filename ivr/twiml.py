"""A menu turn's reply into TwiML: gather keys, speak, or hang up. Each text is
spoken by the app's speaker (ivr/speaker.py), in the configured prompt mode. A
transfer is not a reply rendered here: every transfer goes through the one
transfer path (ivr/transfer.py).

Every turn of every call comes through here, so the document is written as
text by `Verbs` rather than built as twilio's VoiceResponse tree and
serialized by ElementTree, which cost a turn about a tenth of its CPU
(bench/README.md). The bytes are the same as twilio's, down to the attribute
order and the escaping (ElementTree's own escape functions):
tests/unit/test_twiml_text.py compares the two on every kind of turn.
"""
from __future__ import annotations

import functools
from xml.etree.ElementTree import _escape_attrib, _escape_cdata

from flask import Response

from ivr.interpreter import Reply
from ivr.speaker import Speaker

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def _element(name: str, attrs: dict, text: str = "") -> str:
    """One element as ElementTree writes it: attributes sorted by name, None
    left out, booleans as true/false; an empty one closed with ' />'."""
    head = _head(name, attrs)
    return f"<{head}>{text}</{name}>" if text else f"<{head} />"


def _head(name: str, attrs: dict) -> str:
    parts = [name]
    for key in sorted(attrs):
        value = attrs[key]
        if value is None:
            continue
        value = str(value).lower() if isinstance(value, bool) else str(value)
        parts.append(f'{key}="{_escape_attrib(value)}"')
    return " ".join(parts)


# The few element heads every turn repeats, written once each: a <Say> in
# a language and voice, a <Gather> but for its action URL (per turn, so
# escaped each time, and sorted first of its attributes).
@functools.lru_cache(maxsize=256)
def _say_head(language: str | None, voice: str | None) -> str:
    return _head("Say", {"language": language, "voice": voice})


@functools.lru_cache(maxsize=256)
def _gather_rest(timeout, finish_on_key, num_digits) -> str:
    return _head("Gather", {"input": "dtmf", "method": "POST", "timeout": timeout,
                            "finishOnKey": finish_on_key, "numDigits": num_digits})[6:]


class Verbs:
    """The verbs of a <Response> or a <Gather>, written as they are added;
    the speaker's interface (`say`, `play`) is twilio's."""

    def __init__(self):
        self.parts: list[str] = []

    def say(self, message: str, *, language: str | None = None, voice: str | None = None):
        head = _say_head(language, voice)
        self.parts.append(f"<{head}>{_escape_cdata(message)}</Say>" if message else
                          f"<{head} />")

    def play(self, url: str):
        self.parts.append(_element("Play", {}, _escape_cdata(url) if url else ""))

    def redirect(self, url: str, *, method: str = "POST"):
        self.parts.append(_element("Redirect", {"method": method}, _escape_cdata(url)))

    def hangup(self):
        self.parts.append("<Hangup />")

    def text(self) -> str:
        return "".join(self.parts)


def render(reply: Reply, *, action_url: str, no_input_url: str, speaker: Speaker,
           language: str | None = None) -> str:
    """A reply that gathers keys, speaks, or hangs up, in `language` (by
    default the call's). Transfers are not rendered here: they go through the
    one transfer path (ivr/transfer.py)."""
    if reply.transfer:
        raise ValueError("a transfer is answered by ivr.transfer.transfer_twiml")
    response = Verbs()
    if reply.gather is not None:
        spec = reply.gather
        gather = Verbs()
        speaker.speak_turn(gather, spec.says, language, before_input=True)
        # "action" sorts first of a <Gather>'s attributes (see _gather_rest).
        head = f'Gather action="{_escape_attrib(action_url)}"' + \
            _gather_rest(spec.timeout, spec.finish_on_key, spec.num_digits or None)
        inner = gather.text()
        response.parts.append(f"<{head}>{inner}</Gather>" if inner else f"<{head} />")
        # With no input Twilio skips the action and falls through to here.
        response.redirect(no_input_url, method="POST")
    else:
        speaker.speak_turn(response, reply.says, language)
        if reply.hangup:
            response.hangup()
    body = response.text()
    return f"{DECLARATION}<Response>{body}</Response>" if body else \
        f"{DECLARATION}<Response />"


def twiml_response(xml: str) -> Response:
    return Response(xml, content_type="text/xml; charset=utf-8")
