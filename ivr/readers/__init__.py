"""How values are read aloud, one module per language.

A prompt catalog (`ivr/prompts/<language>.yaml`) declares its language; the
module named after it here (`es-MX` -> `ivr/readers/es_mx.py`) reads that
catalog's values: identifiers digit by digit, amounts in pesos and centavos,
dates, times, the agents' hours, account kinds. Adding a language is one
prompt file and one module here, with the names `Reader` lists; nothing else
in the phone line knows which languages exist.

Say mode sends exactly what a reader returns to Twilio; play mode (ivr/audio/)
joins recordings of the same words, so the readers are also what decides which
words must be recorded.
"""
from __future__ import annotations

import importlib
import re
from typing import Protocol

from config.hours import Hours

_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", re.IGNORECASE)


class ReaderError(ValueError):
    """No readers module for a language, or one that lacks part of `Reader`."""


class Reader(Protocol):
    """What a readers module provides (module-level names)."""

    LANGUAGE: str                  # the tag of its prompt catalog, e.g. "es-MX"
    DIGIT_WORDS: tuple[str, ...]   # 0..9, as `digits` says them

    def digits(self, value) -> str:
        """'5671' read digit by digit; letters spelled as they are; values
        separated by spaces ('12345678 0626') read one after the other, a
        pause (';') and a joining word between them."""

    def amount(self, centavos: int) -> str:
        """Centavos as pesos and centavos in words."""

    def date(self, value) -> str:
        """A date (or ISO text) as a person says it."""

    def time(self, value) -> str:
        """An hour of the day (or ISO text) as a person says it."""

    def spell(self, number: int) -> str:
        """A whole number in words: a numeral left in a reading ("20 de…"), or
        a plain number such as a place in line, as its recordings say it."""

    def hours(self, hours: Hours) -> str:
        """When agents are on shift (AGENT_HOURS): a `Spoken` (ivr/spoken.py)
        whose times are time segments, read as `time` reads them."""

    def account_kind(self, kind: str) -> str:
        """An account's kind (cheques, ahorro, nomina) as the balance says it."""

    def credential(self, method: str) -> str:
        """What a caller keys a NIP for, 'card' or 'account'."""

    def amount_rule(self, *, fixed: int | None, low: int, high: int) -> str:
        """The amounts a service accepts, completing the out-of-range prompt: a
        `Spoken` whose amounts are amount segments, never "$1.00"."""

    def recorded_words(self) -> tuple[str, ...]:
        """Plain values the IVR inserts from a closed list (account kinds), and
        the words between the values of a composed reading (day names, "de",
        "a"): recorded for play mode like the words of a reading."""


REQUIRED = ("LANGUAGE", "DIGIT_WORDS", "digits", "amount", "date", "time", "spell", "hours",
            "account_kind", "credential", "amount_rule", "recorded_words")


def module_name(language: str) -> str:
    """'es-MX' -> 'es_mx'."""
    return language.lower().replace("-", "_")


def reader_for(language: str) -> Reader:
    if not _TAG.fullmatch(language or ""):
        raise ReaderError(f"not a language tag: {language!r}")
    name = f"{__name__}.{module_name(language)}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise ReaderError(f"no readers for {language}: add ivr/readers/"
                          f"{module_name(language)}.py (see ivr/readers/__init__.py)") from None
    missing = [n for n in REQUIRED if not hasattr(module, n)]
    if missing:
        raise ReaderError(f"ivr/readers/{module_name(language)}.py lacks {', '.join(missing)}")
    if module.LANGUAGE != language:
        raise ReaderError(f"ivr/readers/{module_name(language)}.py says it reads "
                          f"{module.LANGUAGE!r}, not {language!r}")
    return module
