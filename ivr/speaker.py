"""The one way the IVR speaks: a text into TwiML, in the configured prompt mode.

Every route that says something — a turn of the menu, the line, the agent's
leg, a transfer, the technical-problem answer — hands the text (a rendered
prompt, see ivr/prompts.py) to the app's one `Speaker`. In say mode it becomes
Twilio's <Say> in the configured language and voice; in play mode
(IVR_PROMPT_MODE=play) our recordings, through the `Player` (ivr/audio/player.py).

One voice per turn: in play mode, a turn with anything no recording holds (a
customer's or a biller's name, a reference's label — known only at run time)
is said whole by <Say>, never our recordings with Twilio's voice mid-sentence.
The other way out, rendering those texts with the recordings' engine on first
use and caching the audio, was not taken: it puts a speech engine (and its
ffmpeg) on the serving path of a turn Twilio gives 15 s in all, while the app
ships without one (espeak-ng is a build tool); and it would write customers'
names to disk as audio files served without a signature.
"""
from __future__ import annotations

from typing import Callable

from config import ConfigError
from ivr.audio import pieces
from ivr.audio import web as audio_web
from ivr.audio.manifest import ManifestError
from ivr.audio.player import Player
from ivr.prompts import PromptCatalog, by_language


class Speaker:
    """Says prompts of every language the line speaks: each in the language of
    the call it answers (`language_now()`, ivr/languages.py), unless told."""

    def __init__(self, catalogs: dict[str, PromptCatalog], *, default: str,
                 language_now: Callable[[], str], player: Player | None = None):
        self.catalogs, self.default = catalogs, default  # default: IVR_LANGUAGE
        self.language_now = language_now
        self.player = player  # None in say mode

    def catalog(self, language: str | None = None) -> PromptCatalog:
        return self.catalogs.get(language or self.language_now(), self.catalogs[self.default])

    def words(self, key: str, values: dict | None = None, language: str | None = None):
        """The prompt `key` of the call's catalog, rendered (not yet spoken)."""
        return self.catalog(language).render(key, values or {})

    def speak(self, verb, text, language: str | None = None) -> None:
        """Append what says `text` to `verb` (a VoiceResponse or a Gather), in
        the call's language; a stretch in another (the greeting's offer of
        English) in that one's voice."""
        self.speak_turn(verb, (text,), language)

    def speak_turn(self, verb, texts, language: str | None = None, *,
                   before_input: bool = False) -> None:
        """Append what says `texts`, the prompts of one turn, in one voice: our
        recordings when every part of every text has one, else <Say> for all.
        `before_input`: the caller keys right after them (a <Gather>'s
        prompts), so the last one ends without its closing pause."""
        language = language or self.language_now()
        voice = self.catalog(language).voice
        if self.player is not None and all(self.player.playable(text, language)
                                           for text in texts):
            texts = list(texts)
            for i, text in enumerate(texts):
                self.player.speak(verb, text, language=language, voice=voice,
                                  ends_turn=before_input and i == len(texts) - 1)
            return
        for text in texts:
            for words, said_in, said_by in by_language(text, language, voice):
                verb.say(words, language=said_in, voice=said_by)

    def say(self, verb, key: str, values: dict | None = None) -> None:
        """Speak the prompt `key` of the call's catalog."""
        language = self.language_now()
        self.speak(verb, self.words(key, values, language), language)


def speaker_for(app, catalogs: dict[str, PromptCatalog], *, default: str,
                language_now: Callable[[], str]) -> Speaker:
    """The app's speaker, in the mode its settings name."""
    settings = app.extensions["settings"]
    player = _player(app, catalogs, default) if settings.ivr_prompt_mode == "play" else None
    return Speaker(catalogs, default=default, language_now=language_now, player=player)


def _player(app, catalogs, default: str) -> Player:
    """Play mode starts only with every prompt of every language recorded, as
    a bad menu file stops the app: a missing recording would otherwise surface
    mid-call (a caller who pressed 9 for English)."""
    settings = app.extensions["settings"]
    libraries = {}
    for language, catalog in sorted(catalogs.items()):
        try:
            library = audio_web.load_library(app, language)
        except ManifestError as exc:
            raise ConfigError(f"IVR_PROMPT_MODE: play needs recordings: {exc}") from None
        missing = library.missing(pieces.recordings(catalog))
        if missing:
            raise ConfigError(f"IVR_PROMPT_MODE: play needs recordings: {len(missing)} missing "
                              f"in {library.directory}, e.g. {missing[0]!r} "
                              "(run `ivr audio build`)")
        libraries[language] = library
    return Player(libraries, base_url=settings.public_base_url, default=default)
