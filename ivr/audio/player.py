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
  build time. The app's speaker never mixes the two in a turn: it asks
  `playable` first and says the whole turn by <Say> when a part has no
  recording (ivr/speaker.py).
- bare punctuation between two values (", " "."): <Play> of a short pause.

A segment in another language than the prompt around it (the Spanish
greeting's "For English, press 9") is played from that language's recordings.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from ivr.audio import pieces
from ivr.audio.library import AudioLibrary
from ivr.prompts import Segment, Spoken


class Player:
    """Plays prompts from the recordings of every language the line speaks;
    `library` is the default language's."""

    def __init__(self, libraries: dict[str, AudioLibrary], *, base_url: str, default: str):
        self.libraries, self.library = libraries, libraries[default]
        self.base_url = base_url.rstrip("/")

    def speak(self, verb, text: str, *, language: str, voice: str,
              ends_turn: bool = False) -> None:
        """Append what says `text`, a prompt of `language`, to `verb` (a
        VoiceResponse or a Gather). `ends_turn`: nothing follows it before the
        caller's turn, so its closing pause is left out (a trailing bare
        pause, or the one a last recording carries: library.turn_end)."""
        segments = list(text.segments if isinstance(text, Spoken) else (Segment(str(text)),))
        while ends_turn and segments and not pieces.speakable(segments[-1].text):
            segments.pop()
        for i, segment in enumerate(segments):
            said_in = segment.language or language
            url = self.url_for(segment, said_in)
            if url and ends_turn and i == len(segments) - 1 and "?" not in url:
                url += "?end=turn"  # a static recording (joined values carry ?v=)
            if url:
                verb.play(url)
            elif pieces.speakable(segment.text):
                verb.say(segment.text.strip(), language=said_in,
                         voice=segment.voice or voice)

    def playable(self, text, language: str) -> bool:
        """Whether every part of `text` has a recording (bare punctuation is a
        pause either way); the speaker says a turn whole when one does not."""
        segments = text.segments if isinstance(text, Spoken) else (Segment(str(text)),)
        return all(self.url_for(segment, segment.language or language)
                   or not pieces.speakable(segment.text) for segment in segments)

    def url_for(self, segment: Segment, language: str | None = None) -> str | None:
        library = self.libraries.get(language) if language else self.library
        if library is None:
            return None
        base = f"{self.base_url}/audio/{library.language}"
        file = library.file_for(segment.text)
        if file:
            return f"{base}/{file}"
        kind = segment.kind if segment.kind in pieces.READERS else \
            "number" if segment.kind == "value" else None
        token = pieces.value_token(kind, segment.value) if kind else None
        if token is not None and library.can_read(kind, token):
            # The version changes with any recording, so Twilio's cached copy of
            # a joined file is never stale; the static files are content-addressed.
            return f"{base}/{kind}/{token}.wav?v={library.version}"
        return None

    def text_for(self, url: str) -> str:
        """What a played URL says, in whichever language it is (for transcripts)."""
        parts = urlsplit(url).path.strip("/").split("/")
        library = self.libraries.get(parts[1]) if len(parts) > 2 else None
        if library is None:
            raise KeyError(f"no recording at {url}")
        return library.text_for(url)
