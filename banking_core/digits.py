"""Digits are ASCII: the one place the bank decides what a digit is.

Python's `str.isdigit()`, `str.isdecimal()`, `int()` and the regex `\\d` all
accept Unicode digits — `²`, fullwidth `１`, Arabic-Indic `١` — and `int()`
even turns most of them into numbers. A biller, a card network or a person
reading a receipt only knows 0-9, so a reference, an amount, a NIP or an id
keyed with any other digit is malformed, refused with the same words as any
other malformed value. Every numeric field in every channel is read here.
"""
from __future__ import annotations

import re

# [0-9] never matches ² or １ (unlike \d without re.ASCII).
DIGITS = re.compile(r"[0-9]+")
ALPHANUMERIC = re.compile(r"[0-9A-Za-z]+")
# Ids and counters that fit a BIGINT column: 18 digits keep every value below
# 2**63, so a long string of nines is "not an id", never a database overflow.
MAX_INT_DIGITS = 18


def is_ascii_digits(text, *, length: int | None = None, min_length: int = 1,
                    max_length: int | None = None) -> bool:
    """True only for a str made of 0-9, of the given length (or within bounds)."""
    if not isinstance(text, str) or not DIGITS.fullmatch(text):
        return False
    if length is not None:
        return len(text) == length
    return len(text) >= min_length and (max_length is None or len(text) <= max_length)


def is_ascii_alphanumeric(text) -> bool:
    """True only for a non-empty str of ASCII letters and digits (no `ñ`, no `²`)."""
    return isinstance(text, str) and ALPHANUMERIC.fullmatch(text) is not None


def parse_int(text, *, max_length: int = MAX_INT_DIGITS) -> int:
    """The int an ASCII digit string spells; ValueError for anything else.

    Unlike `int()`: no sign, no spaces, no `_` separators, no Unicode digits,
    at most `max_length` digits. Raising ValueError makes it a drop-in `type=`
    for Werkzeug's `request.args.get`, which then answers the default."""
    if not is_ascii_digits(text, max_length=max_length):
        raise ValueError(f"{str(text)[:20]!r} is not a number written with digits 0-9")
    return int(text)


def int_or_none(text, *, max_length: int = MAX_INT_DIGITS) -> int | None:
    """`parse_int`, or None where the text is not an ASCII number."""
    try:
        return parse_int(text, max_length=max_length)
    except ValueError:
        return None
