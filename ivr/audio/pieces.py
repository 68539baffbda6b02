"""What play mode needs recorded, and how a value is read from recorded words.

Three kinds of recordings, all keyed by their text:

- prompt pieces: each stretch of a prompt's own text between placeholders, in
  every variant ("Usted eligió la cuenta terminación", ". Si es correcto, …");
- pauses: a stretch that is only punctuation (the ", " in "{position},
  {label}", the "." after a value) is a short silence, as a voice pauses there;
- words: every word the catalog's readers (`ivr/readers/<language>.py`)
  produce for digits, amounts, dates, times and plain numbers — in Spanish 0
  to 30, the tens, "y", "cien" and the hundreds, "mil", "millón"/"millones",
  "un"/"una", "pesos", "centavos", "con", "de", the months, "las", "minutos"…
  They are gathered by running those same readers over every form they take,
  so play mode says exactly the words say mode sends to Twilio.

A value is played as one file joined from its words (see `library.py`); its
URL names the language and the value (`/audio/es-MX/amount/65050.wav`), so any
worker can build it without shared state and without a speech engine.
"""
from __future__ import annotations

import datetime as dt
import functools
import re

from banking_core.digits import is_ascii_digits
from ivr.prompts import PromptCatalog
from ivr.readers import Reader

READERS = ("digits", "amount", "date", "time", "number")
WORD_GAP_MS = 50    # between the words of one number: they run together
COMMA_GAP_MS = 220  # "cinco, seis, siete": the pause a comma makes
GROUP_GAP_MS = 450  # "…, ocho; y cero, seis": between two values read in one go
PAUSE_MS = {",": 220, ";": 280, ":": 280, ".": 350}
DEFAULT_PAUSE_MS = 280
# Where a prompt piece starts or ends a sentence, its recording carries the
# pause a voice makes there, as silence: a read-back value and the sentence
# after it ("…cincuenta centavos. Si es correcto…") are two files, played
# with no gap of their own. Inside the engine's recordings a period is
# 385-590 ms.
SENTENCE_PAUSE_MS = 450
LEAD_PAUSE_MS = {".": SENTENCE_PAUSE_MS, "?": SENTENCE_PAUSE_MS, "!": SENTENCE_PAUSE_MS,
                 ",": 220, ";": 280, ":": 280}
SENTENCE_END = ".?!"
_SEPARATOR = re.compile(r"([,;]\s*|\s+)")
_DIGIT_GROUPS = re.compile(r"[0-9]{1,64}(-[0-9]{1,64}){0,7}")
_NUMBER = re.compile(r"0|[1-9][0-9]{0,11}")


def piece_key(text: str) -> str:
    """How a piece of text is looked up: its words, whitespace collapsed."""
    return " ".join(text.split())


def speakable(text: str) -> bool:
    """False for the bare punctuation between two values (": ", "."): a pause."""
    return any(ch.isalnum() for ch in text)


def pause_ms(key: str) -> int:
    return max(PAUSE_MS.get(ch, DEFAULT_PAUSE_MS) for ch in key)


def edge_pauses_ms(key: str) -> tuple[int, int]:
    """The silence a prompt piece's recording carries before and after its
    words: before, the pause of the punctuation it starts with (". Si es
    correcto" follows a value); after, a sentence's pause if it ends one."""
    key = piece_key(key)
    if not speakable(key):
        return 0, 0
    lead = LEAD_PAUSE_MS.get(key[0], 0)
    trail = SENTENCE_PAUSE_MS if key[-1] in SENTENCE_END else 0
    return lead, trail


def tts_text(key: str) -> str:
    # A piece that continues a sentence (", referencia") starts with its
    # punctuation; the engine should not try to voice it.
    return key.lstrip(",.;: ")


def prompt_pieces(catalog: PromptCatalog) -> dict[str, str]:
    """Each piece of prompt text -> "prompt", or "pause" for bare punctuation."""
    keys = {piece_key(text) for text in catalog.static_texts()}
    return {key: "prompt" if speakable(key) else "pause" for key in keys if key}


# -- values -----------------------------------------------------------------
def value_token(kind: str, value) -> str | None:
    """The value as it travels in a URL, or None when it cannot be read from
    recorded words (letters in a reference, a malformed date...)."""
    try:
        if kind == "digits":
            # Values separated by spaces (two references) stay apart: 12345678-0626.
            token = "-".join(str(value).split())
            return token if _DIGIT_GROUPS.fullmatch(token) else None
        if kind == "amount":
            token = str(int(value))
            return token if _NUMBER.fullmatch(token) else None
        if kind in ("date", "time"):
            when = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
            if kind == "date":
                return when.strftime("%Y-%m-%d")
            return f"{when.hour:02d}{when.minute:02d}"
        if kind == "number":
            token = str(value)
            return token if _NUMBER.fullmatch(token) else None
    except (TypeError, ValueError, AttributeError):
        return None
    return None


def _parse(kind: str, token: str):
    if kind == "date":
        return dt.date.fromisoformat(token)
    if kind == "time":
        if not re.fullmatch(r"([01][0-9]|2[0-3])[0-5][0-9]", token):
            raise ValueError(token)
        return dt.time(int(token[:2]), int(token[2:]))
    if kind in ("amount", "number"):
        if not _NUMBER.fullmatch(token):
            raise ValueError(token)
        return int(token)
    # Only 0-9: a URL such as digits/１２.wav must not be read out (nor cached) as "1, 2".
    if not _DIGIT_GROUPS.fullmatch(token):
        raise ValueError(token)
    return token.replace("-", " ")


def reading(kind: str, token: str, reader: Reader) -> str:
    """The value's text exactly as say mode renders it (ValueError if malformed)."""
    value = _parse(kind, token)
    return str(value) if kind == "number" else getattr(reader, kind)(value)


def spoken_words(kind: str, token: str, reader: Reader) -> list[tuple[str, str]]:
    """The words heard, each with the separator before it ("" first).

    Joined, they are the say-mode text; numerals in it (a Spanish date's day and
    year, a plain number) are spelled by the reader, as a voice reads them."""
    text = reading(kind, token, reader)
    parts = _SEPARATOR.split(text)
    words, separator = [], ""
    for i, part in enumerate(parts):
        if i % 2:
            separator = part
        elif part:
            spelled = reader.spell(int(part)) if is_ascii_digits(part) else part
            for j, word in enumerate(spelled.split()):
                words.append((separator if j == 0 else " ", word))
    return words


def gap_ms(separator: str) -> int:
    return GROUP_GAP_MS if ";" in separator else COMMA_GAP_MS if "," in separator \
        else WORD_GAP_MS if separator else 0


@functools.lru_cache(maxsize=8)
def vocabulary(reader: Reader) -> frozenset[str]:
    """Every word a value reading can contain, from the readers themselves."""
    samples = [("digits", "0123456789"), ("digits", "0-1")]
    pesos = list(range(0, 1000)) + [k * 1000 for k in range(1, 1000)] \
        + [k * 1_000_000 for k in range(1, 1000)]
    samples += [("amount", str(p * 100)) for p in pesos]
    samples += [("amount", str(c)) for c in range(0, 100)]
    samples += [("amount", str(100 + c)) for c in range(0, 100)]
    samples += [("date", f"2000-{m:02d}-{d:02d}") for m in range(1, 13) for d in range(1, 29)]
    samples += [("date", "2000-01-29"), ("date", "2000-01-30"), ("date", "2000-01-31")]
    samples += [("date", f"{year}-01-01") for year in range(2001, 2100)]  # years said as such
    samples += [("time", f"{h:02d}{m:02d}") for h in range(24) for m in range(60)]
    samples += [("number", str(n)) for n in pesos]
    words = {word for kind, token in samples for _, word in spoken_words(kind, token, reader)}
    # Plus the plain values the IVR inserts from a closed list (the account
    # kinds of the balance lines). Anything else (names from the database) is
    # said by Twilio.
    return frozenset(words | set(reader.recorded_words()))


def recordings(catalog: PromptCatalog) -> dict[str, str]:
    """Every text that must be recorded for this catalog -> its kind."""
    texts = {word: "word" for word in vocabulary(catalog.reader)}
    texts.update(prompt_pieces(catalog))
    return texts
