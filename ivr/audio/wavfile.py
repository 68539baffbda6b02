"""Telephony WAV files: 8 kHz, mono, G.711 mu-law, read and joined in pure Python.

Python's `wave` module reads only PCM, so the RIFF chunks are parsed here. No
ffmpeg is needed at run time: pieces in one format join by concatenating their
samples, with mu-law silence between them.
"""
from __future__ import annotations

import dataclasses
import struct

MULAW_FORMAT_TAG = 7
RATE = 8000
MULAW_SILENCE = b"\xff"  # mu-law code for amplitude 0


class WavError(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Wav:
    format_tag: int
    channels: int
    rate: int
    bits: int
    data: bytes

    @property
    def is_telephony(self) -> bool:
        return (self.format_tag, self.channels, self.rate, self.bits) == \
            (MULAW_FORMAT_TAG, 1, RATE, 8)

    @property
    def milliseconds(self) -> int:
        return len(self.data) * 1000 // (self.rate * self.channels * max(self.bits // 8, 1))


def read_wav(blob: bytes) -> Wav:
    if len(blob) < 12 or blob[:4] != b"RIFF" or blob[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    fmt, data, offset = None, None, 12
    while offset + 8 <= len(blob):
        chunk_id, size = struct.unpack_from("<4sI", blob, offset)
        body = blob[offset + 8: offset + 8 + size]
        if chunk_id == b"fmt " and size >= 16:
            fmt = struct.unpack_from("<HHIIHH", body)
        elif chunk_id == b"data":
            data = body
        offset += 8 + size + (size & 1)  # chunks are word-aligned
    if fmt is None or data is None:
        raise WavError("no fmt or data chunk")
    format_tag, channels, rate, _byte_rate, _align, bits = fmt
    return Wav(format_tag, channels, rate, bits, data)


def mulaw_wav(samples: bytes) -> bytes:
    """A WAVE file around mu-law samples: fmt (18 bytes, as non-PCM formats
    have), fact (the sample count non-PCM formats carry) and data."""
    fmt = struct.pack("<HHIIHHH", MULAW_FORMAT_TAG, 1, RATE, RATE, 1, 8, 0)
    fact = struct.pack("<I", len(samples))
    pad = b"\x00" if len(samples) & 1 else b""
    chunks = (b"fmt " + struct.pack("<I", len(fmt)) + fmt
              + b"fact" + struct.pack("<I", len(fact)) + fact
              + b"data" + struct.pack("<I", len(samples)) + samples + pad)
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def silence(milliseconds: int) -> bytes:
    return MULAW_SILENCE * (RATE * milliseconds // 1000)


def _decode(code: int) -> int:
    # G.711 mu-law expansion to 16-bit linear.
    code = ~code & 0xFF
    magnitude = (((code & 0x0F) << 3) + 0x84) << ((code >> 4) & 0x07)
    return 0x84 - magnitude if code & 0x80 else magnitude - 0x84


MULAW_TO_LINEAR = tuple(_decode(code) for code in range(256))


def decode(samples: bytes) -> list[int]:
    return [MULAW_TO_LINEAR[b] for b in samples]
