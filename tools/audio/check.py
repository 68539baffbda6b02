"""`ivr audio check`: the committed audio matches the prompts, both ways; every
file is telephony audio, with no silence at its ends but the pause it should
carry, at one loudness (EBU R128, within loudness.TOLERANCE_LU of the target)."""
from __future__ import annotations

import tempfile
from pathlib import Path

from ivr.audio import pieces
from ivr.audio.manifest import ManifestError, load_manifest, text_hash
from ivr.audio.wavfile import MULAW_TO_LINEAR, WavError, mulaw_wav, read_wav
from ivr.prompts import PromptCatalog
from tools.audio import loudness
from tools.audio.build import engine_for

MAX_EDGE_SILENCE_MS = 300
SILENT_BELOW = 330  # linear amplitude (about -40 dBFS): quieter than speech


def check(catalog: PromptCatalog, directory: Path) -> list[str]:
    """Problems with audio/<language>/ for this catalog; empty when all is well.
    Checks every file's format and edges too, so a hand-copied or half-built
    file is caught here, not by a caller."""
    directory = Path(directory)
    try:
        manifest = load_manifest(directory)
    except ManifestError as exc:
        return [str(exc)]
    problems = []
    engine = engine_for(catalog.language, catalog.recording_voice)
    if manifest.engine != engine:
        problems.append(f"{directory}: built with {manifest.engine}, the build now uses "
                        f"{engine}: rebuild")
    wanted = {text_hash(engine, text): text for text in pieces.recordings(catalog)}
    for key, text in sorted(wanted.items(), key=lambda item: item[1]):
        entry = manifest.entries.get(key)
        if entry is None:
            problems.append(f"missing: no recording of {text!r}")
        elif not (directory / entry.file).is_file():
            problems.append(f"missing: {entry.file} ({text!r}) is in the manifest, not on disk")
    for key, entry in sorted(manifest.entries.items()):
        if key not in wanted:
            problems.append(f"orphan: {entry.file} ({entry.text!r}) is no prompt's any more")
    listed = {entry.file for entry in manifest.entries.values()}
    spoken = []
    for path in sorted(directory.glob("*.wav")):
        if path.name not in listed:
            problems.append(f"orphan: {path.name} is not in the manifest")
            continue
        entry = manifest.entries[path.name[:-4]]
        pause = entry.kind == "pause"
        found = file_problems(path.read_bytes(), pause=pause,
                              pauses=pieces.edge_pauses_ms(entry.text)
                              if entry.kind == "prompt" else (0, 0))
        problems.extend(f"{path.name}: {p}" for p in found)
        if not pause and not found:
            spoken.append((path, pieces.edge_pauses_ms(entry.text)
                           if entry.kind == "prompt" else (0, 0)))
    problems.extend(loudness_problems(spoken))
    return problems


def loudness_problems(recordings) -> list[str]:
    """Recordings (path, its sentence pauses) whose words, without those
    pauses, are not at the one loudness every piece is built to."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="ivr-check-") as tmp:
        words = []
        for n, (path, (lead, trail)) in enumerate(recordings):
            data = read_wav(path.read_bytes()).data
            words.append(Path(tmp) / f"{n}.wav")
            words[-1].write_bytes(mulaw_wav(data[lead * 8: len(data) - trail * 8]))
        try:
            measured = loudness.measure_many(words)
        except loudness.LoudnessError as exc:
            return [str(exc)]
        except FileNotFoundError:
            return ["loudness not checked: ffmpeg not found (install ffmpeg)"]
    for (path, _), found in zip(recordings, measured):
        problem = loudness_problem(found.integrated)
        if problem:
            problems.append(f"{path.name}: {problem}")
    return problems


def loudness_problem(measured: float | None) -> str | None:
    if measured is None or abs(measured - loudness.TARGET_LUFS) > loudness.TOLERANCE_LU:
        return (f"loudness {measured} LUFS, expected {loudness.TARGET_LUFS} ± "
                f"{loudness.TOLERANCE_LU} LU (rebuild it)")
    return None


def file_problems(blob: bytes, *, pause: bool = False,
                  pauses: tuple[int, int] = (0, 0)) -> list[str]:
    """What is wrong with one file: its format, and silence at its ends (a
    pause must be silence, and short; a piece that starts or ends a sentence
    carries that pause, `pauses`, and no more than MAX_EDGE_SILENCE_MS besides)."""
    try:
        wav = read_wav(blob)
    except WavError as exc:
        return [str(exc)]
    if not wav.is_telephony:
        return [f"format tag {wav.format_tag}, {wav.channels} channel(s), {wav.rate} Hz, "
                f"{wav.bits} bits; expected mu-law (7), 1, 8000 Hz, 8 bits"]
    head, tail = edge_silences_ms(wav.data)
    if pause:
        return [] if head == wav.milliseconds and 0 < head <= 500 else \
            [f"a pause must be at most 500 ms of silence ({wav.milliseconds} ms)"]
    problems = []
    lead, trail = pauses
    if head >= len(wav.data) // 8:
        problems.append("silent")
    elif head < lead or tail < trail:
        problems.append(f"{head} ms of silence before, {tail} ms after: the sentence "
                        f"pause is {lead} ms before, {trail} ms after")
    elif max(head - lead, tail - trail) > MAX_EDGE_SILENCE_MS:
        problems.append(f"{head} ms of silence before, {tail} ms after (at most "
                        f"{MAX_EDGE_SILENCE_MS} besides a sentence pause)")
    return problems


def edge_silences_ms(samples: bytes) -> tuple[int, int]:

    loud = [i for i, code in enumerate(samples) if abs(MULAW_TO_LINEAR[code]) >= SILENT_BELOW]
    if not loud:
        return len(samples) // 8, len(samples) // 8
    return loud[0] // 8, (len(samples) - 1 - loud[-1]) // 8
