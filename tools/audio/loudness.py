"""Integrated loudness (EBU R128 / ITU-R BS.1770) of one recording, by ffmpeg's
ebur128 filter: what `ivr audio build` levels every piece to and `ivr audio
check` verifies.

The measure gates in 400 ms blocks, so a piece shorter than a few seconds (a
single word: "y", "mil") is measured looped to MEASURE_SECONDS: its loudness
is that of its own sound, the same however often it repeats.
"""
from __future__ import annotations

import dataclasses
import math
import re
import shutil
import subprocess
from pathlib import Path

from ivr.audio.wavfile import WavError, read_wav

# The loudest target the engine's peakiest piece (21.2 dB from peak to
# loudness) allows under the build's -1 dBFS ceiling: louder would clip it;
# quieter would bring the quietest words closer to mu-law's noise floor.
TARGET_LUFS = -22.0
TOLERANCE_LU = 1.0      # `ivr audio check` accepts every recording within this of it
MEASURE_SECONDS = 3.0
_SUMMARY = re.compile(r"\[Parsed_ebur128_(\d+) @ [^\]]*\] Summary:\s+Integrated loudness:"
                      r"\s+I:\s+(-?[0-9.]+) LUFS")
BATCH = 50
TIMEOUT = 120


class LoudnessError(RuntimeError):
    pass


@dataclasses.dataclass(frozen=True)
class Loudness:
    integrated: float | None  # LUFS; None when the file is (nearly) silent


def measure(path: Path) -> Loudness:
    """The integrated loudness of the WAV file at `path` (any rate, PCM or mu-law)."""
    return measure_many([path])[0]


def measure_many(paths, *, batch: int = BATCH) -> list[Loudness]:
    """The integrated loudness of each file, in order: one ffmpeg process
    measures a batch of files side by side (a process per file would make
    `ivr audio check` wait mostly on ffmpeg starting)."""
    paths = [Path(p) for p in paths]
    found: list[Loudness] = []
    for first in range(0, len(paths), batch):
        found += _measure_batch(paths[first:first + batch])
    return found


def _measure_batch(paths: list[Path]) -> list[Loudness]:
    program = shutil.which("ffmpeg")
    if program is None:
        raise FileNotFoundError(2, "ffmpeg not found", "ffmpeg")
    args = [program, "-hide_banner", "-nostats"]
    for path in paths:
        try:
            milliseconds = read_wav(path.read_bytes()).milliseconds
        except (OSError, WavError) as exc:
            raise LoudnessError(f"{path}: {exc}") from None
        loops = max(math.ceil(MEASURE_SECONDS * 1000 / max(milliseconds, 1)) - 1, 0)
        args += ["-stream_loop", str(loops), "-i", str(path)]
    args += ["-filter_complex", ";".join(f"[{i}:a]ebur128[m{i}]" for i in range(len(paths)))]
    for i in range(len(paths)):
        args += ["-map", f"[m{i}]", "-f", "null", "-"]
    try:
        result = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise LoudnessError(f"ffmpeg stalled measuring {paths[0]}…") from None
    # Each ebur128 instance prints its summary when the graph closes (the last
    # one printed per instance is the measure).
    values = {int(i): float(v) for i, v in _SUMMARY.findall(result.stderr)}
    if result.returncode != 0 or len(values) != len(paths):
        raise LoudnessError(f"ffmpeg could not measure {paths[0]}…: "
                            f"{(result.stderr.strip().splitlines() or ['no output'])[-1]}")
    return [Loudness(None if values[i] <= -70.0 else values[i]) for i in range(len(paths))]
