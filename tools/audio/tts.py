"""The speech engine: espeak-ng, one process per text, never inside the app.

Why espeak-ng's own command and not pyttsx3 (which drives the same engine):
pyttsx3 2.99's espeak driver writes the file from espeak's callback thread and
races with runAndWait(). Measured here, about one text in a hundred came out
empty, and the last chunk of audio lands in the file or not depending on
timing, so one text rendered twice gave two different files: committed audio
would change on every rebuild, and a retry loop would only hide it. The
command is deterministic (the same text is the same bytes), takes ~15 ms a
text, and a stalled one is killed by its timeout without taking the build down.
"""
from __future__ import annotations

import shutil
import subprocess

# espeak-ng voices per prompt language; Latin American Spanish is the nearest
# espeak-ng has to Mexican Spanish.
VOICES = {"es-MX": "roa/es-419", "es": "roa/es-419", "en-US": "gmw/en-US", "en": "gmw/en-US"}
RATE = 150     # words per minute: espeak's default 175 is brisk for a phone line
TIMEOUT = 60   # seconds for one text


class EngineError(RuntimeError):
    pass


def voice_for(language: str) -> str:
    voice = VOICES.get(language) or VOICES.get(language.split("-")[0])
    if voice is None:
        raise EngineError(f"no espeak-ng voice known for language {language!r} "
                          "(add one to VOICES in tools/audio/tts.py)")
    return voice


def speak_to_file(text: str, path, *, voice: str, rate: int = RATE) -> None:
    """Write `text` spoken as the engine's own WAV (22,050 Hz 16-bit PCM)."""
    program = shutil.which("espeak-ng")
    if program is None:
        raise EngineError("espeak-ng not found: install it (apt-get install espeak-ng)")
    try:
        # The text goes on stdin, so none of it is ever taken for an option.
        result = subprocess.run([program, "-v", voice, "-s", str(rate), "-b", "1",
                                 "-w", str(path)], input=text.encode("utf-8"),
                                capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise EngineError(f"espeak-ng stalled for {TIMEOUT} s on {text!r}") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip() or "no message"
        raise EngineError(f"espeak-ng failed on {text!r}: {message.splitlines()[-1]}")
