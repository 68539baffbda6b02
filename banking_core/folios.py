"""Folios: 10 digits a caller can write down, with a check digit for mistyping.

Nine random digits (never starting with 0, so nothing is lost when the folio is
read as a number) plus a Luhn check digit. Random rather than sequential: no
shared counter for every payment to queue on, and folios reveal nothing about
volume. A collision is caught by the unique index and the payment retried.
"""
from __future__ import annotations

import secrets

from banking_core.checkdigits import luhn_check_digit, luhn_is_valid

FOLIO_LENGTH = 10


def new_folio() -> str:
    body = str(10**8 + secrets.randbelow(9 * 10**8))
    return body + luhn_check_digit(body)


def is_valid_folio(text: str) -> bool:
    return (
        isinstance(text, str) and len(text) == FOLIO_LENGTH and text[0] != "0"
        and luhn_is_valid(text)
    )
