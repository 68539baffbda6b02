"""The one way the IVR speaks: a text into TwiML, in the configured prompt mode.

Every route that says something — a turn of the menu, the line, the agent's
leg, a transfer, the technical-problem answer — hands the text (a rendered
prompt, see ivr/prompts.py) to the app's one `Speaker`. In say mode it becomes
Twilio's <Say> in the configured language and voice; in play mode
(IVR_PROMPT_MODE=play) our recordings, through the `Player` (ivr/audio/player.py),
which still says by <Say> what no recording can hold (a customer's name).
"""
from __future__ import annotations

from config import ConfigError
from ivr.audio import pieces
from ivr.audio import web as audio_web
from ivr.audio.manifest import ManifestError
from ivr.audio.player import Player


class Speaker:
    def __init__(self, prompts, *, language: str, voice: str, player: Player | None = None):
        self.prompts, self.language, self.voice = prompts, language, voice
        self.player = player  # None in say mode

    def words(self, key: str, values: dict | None = None):
        """The prompt `key` of the catalog, rendered (not yet spoken)."""
        return self.prompts.render(key, values or {})

    def speak(self, verb, text) -> None:
        """Append what says `text` to `verb` (a VoiceResponse or a Gather)."""
        if self.player is not None:
            self.player.speak(verb, text, language=self.language, voice=self.voice)
        else:
            verb.say(text, language=self.language, voice=self.voice)

    def say(self, verb, key: str, values: dict | None = None) -> None:
        """Speak the prompt `key` of the catalog."""
        self.speak(verb, self.words(key, values))


def speaker_for(app, prompts) -> Speaker:
    """The app's speaker, in the mode its settings name."""
    settings = app.extensions["settings"]
    player = _player(app, prompts) if settings.ivr_prompt_mode == "play" else None
    return Speaker(prompts, language=prompts.language,
                   voice=settings.ivr_voice or prompts.voice, player=player)


def _player(app, prompts) -> Player:
    """Play mode starts only with every prompt recorded, as a bad menu file
    stops the app: a missing recording would otherwise surface mid-call."""
    settings = app.extensions["settings"]
    try:
        library = audio_web.load_library(app, prompts.language)
    except ManifestError as exc:
        raise ConfigError(f"IVR_PROMPT_MODE: play needs recordings: {exc}") from None
    missing = library.missing(pieces.recordings(prompts))
    if missing:
        raise ConfigError(f"IVR_PROMPT_MODE: play needs recordings: {len(missing)} missing in "
                          f"{library.directory}, e.g. {missing[0]!r} (run `ivr audio build`)")
    return Player(library, base_url=settings.public_base_url)
