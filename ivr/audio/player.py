"""A rendered prompt into TwiML verbs, in play mode.

Each segment of the prompt (see `ivr.prompts.Spoken`) becomes:
- the prompt's own words: <Play> of their recording;
- a value read as digits, an amount, a date or a time, or a plain whole number:
  <Play> of one file joined from recorded words, at a URL naming the value;
- a plain value with a recording (a reason rendered from a prompt, an account
  kind): <Play> of it;
- anything else — a customer's or a biller's name from the database, or text an
  operation composed — <Say>, in the configured voice, in the same place. No
  speech engine may run inside a webhook (Twilio waits 15 s in all for a
  turn, and the app ships without one), and those values are not known at
  build time.
- bare punctuation between two values (", " "."): <Play> of a short pause.
"""
from __future__ import annotations

from ivr.audio import pieces
from ivr.audio.library import AudioLibrary
from ivr.prompts import Segment, Spoken


class Player:
    def __init__(self, library: AudioLibrary, *, base_url: str):
        self.library = library
        self.base = f"{base_url.rstrip('/')}/audio/{library.language}"

    def speak(self, verb, text: str, *, language: str, voice: str) -> None:
        """Append what says `text` to `verb` (a VoiceResponse or a Gather)."""
        segments = text.segments if isinstance(text, Spoken) else (Segment(str(text)),)
        for segment in segments:
            url = self.url_for(segment)
            if url:
                verb.play(url)
            elif pieces.speakable(segment.text):
                verb.say(segment.text.strip(), language=language, voice=voice)

    def url_for(self, segment: Segment) -> str | None:
        file = self.library.file_for(segment.text)
        if file:
            return f"{self.base}/{file}"
        kind = segment.kind if segment.kind in pieces.READERS else \
            "number" if segment.kind == "value" else None
        token = pieces.value_token(kind, segment.value) if kind else None
        if token is not None and self.library.can_read(kind, token):
            # The version changes with any recording, so Twilio's cached copy of
            # a joined file is never stale; the static files are content-addressed.
            return f"{self.base}/{kind}/{token}.wav?v={self.library.version}"
        return None
