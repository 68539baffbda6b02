"""The built audio of one language, as the app uses it: which file says a
text, and a value's reading joined from its word files (no speech engine)."""
from __future__ import annotations

import collections
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

from ivr.audio import pieces
from ivr.audio.manifest import load_manifest
from ivr.audio.wavfile import WavError, mulaw_wav, read_wav, silence
from ivr.readers import reader_for

LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
STATIC_FILE = re.compile(r"[0-9a-f]{16}\.wav")
JOINED_CACHE_SIZE = 256  # read-backs kept in memory; each is a few KB


class AudioLibrary:
    def __init__(self, directory: Path, language: str):
        if not LANGUAGE.fullmatch(language):
            raise ValueError(f"not a language tag: {language!r}")
        self.directory, self.language = Path(directory) / language, language
        self.reader = reader_for(language)  # how this language's values are read
        self.manifest = load_manifest(self.directory)
        self.version = self.manifest.version()
        self._by_text = self.manifest.by_text()
        self._joined: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self._lock = threading.Lock()

    # -- what is recorded -------------------------------------------------------
    def file_for(self, text: str) -> str | None:
        entry = self._by_text.get(pieces.piece_key(text))
        return entry.file if entry else None

    def static_path(self, name: str) -> Path | None:
        """The file named `name`, if the manifest lists it (nothing else is served)."""
        if STATIC_FILE.fullmatch(name) and name[:-4] in self.manifest.entries:
            return self.directory / name
        return None

    def turn_end(self, name: str) -> bytes | None:
        """The static file `name` without the sentence pause its recording
        carries at its end: as the last sound of a turn it would only be dead
        air before the caller's turn (the <Gather>'s timeout starts after it)."""
        path = self.static_path(name)
        if path is None or not path.is_file():
            return None
        entry = self.manifest.entries[name[:-4]]
        trail = pieces.edge_pauses_ms(entry.text)[1] if entry.kind == "prompt" else 0
        try:
            samples = read_wav(path.read_bytes()).data
        except (OSError, WavError):
            return None
        cut = len(silence(trail))
        return mulaw_wav(samples[:len(samples) - cut] if 0 < cut < len(samples) else samples)

    def can_read(self, kind: str, token: str) -> bool:
        try:
            return all(word in self._by_text for _, word in pieces.spoken_words(kind, token, self.reader))
        except ValueError:
            return False

    def missing(self, texts) -> list[str]:
        return sorted(text for text in texts if text not in self._by_text
                      or not (self.directory / self._by_text[text].file).is_file())

    # -- read-backs ----------------------------------------------------------------
    def joined(self, kind: str, token: str) -> bytes | None:
        """One WAV of the value's words with natural gaps, or None if the value
        is malformed or a word is not recorded. Cached by the words it says."""
        try:
            words = pieces.spoken_words(kind, token, self.reader) if kind in pieces.READERS else None
        except ValueError:
            return None
        if not words or any(word not in self._by_text for _, word in words):
            return None
        key = "".join(separator + word for separator, word in words)
        with self._lock:
            if key in self._joined:
                self._joined.move_to_end(key)
                return self._joined[key]
        try:
            samples = b"".join(silence(pieces.gap_ms(separator)) + self._samples(word)
                               for separator, word in words)
        except (OSError, WavError):
            return None
        blob = mulaw_wav(samples)
        with self._lock:
            self._joined[key] = blob
            while len(self._joined) > JOINED_CACHE_SIZE:
                self._joined.popitem(last=False)
        return blob

    def _samples(self, word: str) -> bytes:
        return read_wav((self.directory / self._by_text[word].file).read_bytes()).data

    # -- for transcripts -------------------------------------------------------------
    def text_for(self, url: str) -> str:
        """What a played URL says, as say mode would have written it
        (`…/audio/es-MX/<hash>.wav` or `…/audio/es-MX/<kind>/<token>.wav`)."""
        parts = urlsplit(url).path.strip("/").split("/")
        if len(parts) == 3 and parts[:2] == ["audio", self.language]:
            entry = self.manifest.entries.get(parts[2].removesuffix(".wav"))
            if entry:
                return entry.text
        if len(parts) == 4 and parts[:2] == ["audio", self.language] \
                and parts[2] in pieces.READERS and parts[3].endswith(".wav"):
            return pieces.reading(parts[2], parts[3].removesuffix(".wav"), self.reader)
        raise KeyError(f"no recording at {url}")
