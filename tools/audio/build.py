"""`ivr audio build`: every text play mode needs, recorded as telephony audio.

For each text not yet in the manifest: the speech engine renders it (in its
own process, see tts.py); ffmpeg resamples to 8 kHz and measures the piece's
integrated loudness (EBU R128, its ebur128 filter; see loudness.py) without
the silence the engine leaves at both ends (pydub trims it, before and after
levelling); one linear gain brings every piece to the same loudness, so a
long menu and a read-back joined from single words sound alike; a piece that starts or ends a sentence gets the
pause a voice makes there as silence (pieces.edge_pauses_ms); ffmpeg encodes
8 kHz mono mu-law WAV. Texts already built are kept; files no text needs any
more are removed.

A linear gain, not ffmpeg's loudnorm filter: loudnorm's one-pass mode is a
dynamic compressor (it would pump inside a two-second word) and its linear
mode is this same measure-then-gain. The target, -22 LUFS, is the loudest
the peakiest piece allows (see loudness.py).
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import tempfile
import time
from pathlib import Path

from pydub import AudioSegment
from pydub.silence import detect_leading_silence

from ivr.audio.manifest import Entry, Manifest, ManifestError, load_manifest, text_hash
from ivr.audio.pieces import edge_pauses_ms, pause_ms, tts_text
from ivr.audio.wavfile import mulaw_wav, silence
from tools.audio import loudness, tts

SILENCE_DBFS = -45.0  # below this, the engine's lead-in and tail count as silence
KEEP_MS = 15          # of that silence, kept at each end so a piece does not click
TARGET_LUFS = loudness.TARGET_LUFS  # integrated loudness of every piece (EBU R128)
PEAK_CEILING_DBFS = -1.0
PROCESSING = (f"trim {SILENCE_DBFS} dBFS keep {KEEP_MS} ms; 8000 Hz; {TARGET_LUFS} LUFS peak "
              f"{PEAK_CEILING_DBFS} dBFS; trim; level again; sentence pauses; mu-law")


class BuildError(RuntimeError):
    pass


@dataclasses.dataclass(frozen=True)
class BuildReport:
    language: str
    rendered: int
    kept: int
    removed: int
    files: int
    total_bytes: int
    seconds: float


def engine_for(language: str, voice: str | None = None) -> dict:
    """How a language is recorded: `voice` is the prompt file's
    `recording_voice`, else tools/audio/tts.py's voice for the language."""
    return {"tts": "espeak-ng", "voice": voice or tts.voice_for(language), "rate": tts.RATE,
            "processing": PROCESSING}


def build(language: str, texts: dict[str, str], directory: Path, *, force: bool = False,
          workers: int = 2, voice: str | None = None) -> BuildReport:
    """Bring `directory` to exactly `texts` (text -> kind) for `language`."""
    started = time.monotonic()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    engine = engine_for(language, voice)
    old = {} if force else _existing_entries(directory)
    wanted = {text_hash(engine, text): (text, kind) for text, kind in texts.items()}
    entries, todo, rendered = {}, [], 0
    for key, (text, kind) in sorted(wanted.items()):
        entry = old.get(key)
        if entry is not None and (directory / entry.file).is_file():
            entries[key] = Entry(entry.file, text, kind, entry.milliseconds)
        elif kind == "pause":  # silence needs no engine
            (directory / f"{key}.wav").write_bytes(mulaw_wav(silence(pause_ms(text))))
            entries[key] = Entry(f"{key}.wav", text, kind, pause_ms(text))
            rendered += 1
        else:
            todo.append((key, text, kind))
    rendered += len(todo)
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        built = pool.map(lambda job: (job[0], _render(engine, *job, directory)), todo)
        entries.update(built)
    manifest = Manifest(language=language, engine=engine, entries=entries)
    manifest.save(directory)
    keep = {entry.file for entry in entries.values()}
    removed = 0
    for path in directory.glob("*.wav"):
        if path.name not in keep:
            path.unlink()
            removed += 1
    return BuildReport(language=language, rendered=rendered, kept=len(entries) - rendered,
                       removed=removed, files=len(entries),
                       total_bytes=sum((directory / f).stat().st_size for f in keep),
                       seconds=round(time.monotonic() - started, 1))


def _existing_entries(directory: Path) -> dict[str, Entry]:
    if not (directory / "manifest.json").exists():
        return {}
    try:
        return load_manifest(directory).entries
    except ManifestError as exc:
        raise BuildError(f"{exc} (use --force to rebuild everything)") from None


def _render(engine: dict, key: str, text: str, kind: str, directory: Path) -> Entry:
    with tempfile.TemporaryDirectory(prefix="ivr-tts-") as tmp:
        raw = Path(tmp) / "engine.wav"
        tts.speak_to_file(tts_text(text), raw, voice=engine["voice"], rate=engine["rate"])
        pauses = edge_pauses_ms(text) if kind == "prompt" else (0, 0)
        return Entry(f"{key}.wav", text, kind,
                     _process(raw, directory / f"{key}.wav", text, pauses, Path(tmp)))


def _trim(sound: AudioSegment) -> AudioSegment:
    """Without the silence at both ends, but KEEP_MS of it (no click)."""
    head = detect_leading_silence(sound, silence_threshold=SILENCE_DBFS, chunk_size=5)
    tail = detect_leading_silence(sound.reverse(), silence_threshold=SILENCE_DBFS, chunk_size=5)
    return sound[max(head - KEEP_MS, 0): len(sound) - max(tail - KEEP_MS, 0)]


def _process(raw: Path, out: Path, text: str, pauses: tuple[int, int], tmp: Path) -> int:
    """Trim, resample, level, pad and encode one engine recording; returns its
    length in ms."""
    # bitexact and no metadata keep rebuilds byte-identical, so an unchanged
    # prompt never shows up as a diff.
    exact = ["-fflags", "+bitexact", "-map_metadata", "-1"]
    try:
        sound = AudioSegment.from_wav(raw)
        if detect_leading_silence(sound, silence_threshold=SILENCE_DBFS,
                                  chunk_size=5) >= len(sound):
            raise BuildError(f"the engine produced only silence for {text!r}")
        # ffmpeg resamples (with the low-pass filter that keeps 8 kHz free of
        # aliasing) before the loudness is measured: what the caller hears.
        narrow = tmp / "8k.wav"
        _trim(sound).export(narrow, format="wav",
                            parameters=["-ar", "8000", "-ac", "1", *exact])
        sound = AudioSegment.from_wav(narrow)
        # Trimmed again once levelled (a tail the gain took below the
        # threshold is silence to the caller too), then measured again: in a
        # word of 300 ms that tail weighs, so the gain is corrected once.
        for _ in range(2):
            measured = loudness.measure(narrow).integrated
            if measured is None:
                raise BuildError(f"no loudness measurable for {text!r}")
            sound = _trim(sound.apply_gain(min(TARGET_LUFS - measured,
                                               PEAK_CEILING_DBFS - sound.max_dBFS)))
            sound.export(narrow, format="wav", parameters=exact)
        lead, trail = pauses
        sound = AudioSegment.silent(lead, frame_rate=8000) + sound \
            + AudioSegment.silent(trail, frame_rate=8000)
        sound.export(out, format="wav", codec="pcm_mulaw",
                     parameters=["-ar", "8000", "-ac", "1", *exact])
        return len(sound)
    except FileNotFoundError as exc:
        raise BuildError(f"ffmpeg not found ({exc.filename}): install ffmpeg") from None
