"""The speech engine, in its own process: `python -m ivr.audio.tts JOBS.json`.

pyttsx3 drives espeak-ng through libespeak-ng. Its runAndWait() is known to
hang on a later call in one process and under threads, so the builder starts
one process per batch of texts and kills it if it stalls; the app never speaks.
JOBS.json: {"voice": ..., "rate": ..., "items": [[text, wav_path], ...]}; each
item is written as the engine's own WAV (22,050 Hz 16-bit PCM).
"""
from __future__ import annotations

import json
import os
import sys

# espeak-ng voices per prompt language; Latin American Spanish is the nearest
# espeak-ng has to Mexican Spanish.
VOICES = {"es-MX": "roa/es-419", "es": "roa/es-419", "en-US": "gmw/en-US", "en": "gmw/en-US"}
RATE = 150  # words per minute: espeak's default 175 is brisk for a phone line
ATTEMPTS = 3


class EngineError(RuntimeError):
    pass


def voice_for(language: str) -> str:
    voice = VOICES.get(language) or VOICES.get(language.split("-")[0])
    if voice is None:
        raise EngineError(f"no espeak-ng voice known for language {language!r} "
                          "(add one to VOICES in ivr/audio/tts.py)")
    return voice


def main(argv: list[str]) -> int:
    with open(argv[1], encoding="utf-8") as f:
        jobs = json.load(f)
    try:
        import pyttsx3

        engine = pyttsx3.init("espeak")
    except Exception as exc:  # noqa: BLE001 - any failure: the engine is not usable here
        print(f"pyttsx3/espeak-ng unusable: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    engine.setProperty("voice", jobs["voice"])
    engine.setProperty("rate", jobs["rate"])
    for text, path in jobs["items"]:
        if not _save(engine, text, path):
            print(f"the engine wrote nothing for {text!r} in {ATTEMPTS} attempts",
                  file=sys.stderr)
            return 4
    return 0


def _save(engine, text: str, path: str) -> bool:
    # espeak-ng synthesizes on its own thread and pyttsx3 (2.99) sometimes
    # returns from runAndWait() without having written the file (about one
    # text in a few hundred here): asking again has always produced it.
    for _ in range(ATTEMPTS):
        engine.save_to_file(text, path)
        engine.runAndWait()
        if os.path.exists(path) and os.path.getsize(path) > 44:  # more than a header
            return True
    return False


if __name__ == "__main__":
    sys.exit(main(sys.argv))
