"""Check-digit rules for references, cards and CLABEs.

Billers name their reference rule by a key in `REFERENCE_RULES`; a new rule is a
function `str -> bool` registered there (pluggable, no code elsewhere changes).
"""
from __future__ import annotations

from typing import Callable

from banking_core.digits import is_ascii_digits


def luhn_checksum(digits: str) -> int:
    """Callers pass ASCII digits only (int() would also read "²" or "１")."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10


def luhn_is_valid(digits: str) -> bool:
    return is_ascii_digits(digits, min_length=2) and luhn_checksum(digits) == 0


def luhn_check_digit(payload: str) -> str:
    """The digit that makes `payload + digit` Luhn-valid."""
    return str((10 - luhn_checksum(payload + "0")) % 10)


# Paynet maps letters onto digits before applying Luhn (A/J->1, B/K/S->2, ...).
_PAYNET_LETTERS = {
    **dict.fromkeys("AJ", "1"), **dict.fromkeys("BKS", "2"), **dict.fromkeys("CLT", "3"),
    **dict.fromkeys("DMU", "4"), **dict.fromkeys("ENV", "5"), **dict.fromkeys("FOW", "6"),
    **dict.fromkeys("GPX", "7"), **dict.fromkeys("HQY", "8"), **dict.fromkeys("IRZ", "9"),
}


_ASCII_DIGITS = frozenset("0123456789")


def paynet_digits(reference: str) -> str | None:
    out = []
    for char in reference.upper():
        if char in _ASCII_DIGITS:
            out.append(char)
        elif char in _PAYNET_LETTERS:
            out.append(_PAYNET_LETTERS[char])
        else:
            return None
    return "".join(out)


def paynet_is_valid(reference: str) -> bool:
    digits = paynet_digits(reference)
    return digits is not None and luhn_is_valid(digits)


def no_check_digit(reference: str) -> bool:
    return True


REFERENCE_RULES: dict[str, Callable[[str], bool]] = {
    "none": no_check_digit,
    "luhn": luhn_is_valid,
    "bancomer00": luhn_is_valid,  # "Algoritmo Bancomer 00" is Luhn
    "paynet": paynet_is_valid,
}
# The rules that read digits only: on an alphanumeric reference they would
# refuse every value holding a letter (Paynet's maps letters onto digits first).
DIGITS_ONLY_RULES = frozenset({"luhn", "bancomer00"})
# A check digit is one character of the reference, after at least one more
# (luhn_is_valid wants two): a shorter reference could never pass.
MIN_CHECKED_LENGTH = 2


def reference_rule_problem(check_digit: str, charset: str, max_length: int) -> str | None:
    """Why a reference defined so could never be paid, or None. The database
    refuses the same combinations (models.BillerReference)."""
    if check_digit not in REFERENCE_RULES:
        return f"unknown check-digit rule {check_digit!r}; known: " \
            f"{', '.join(sorted(REFERENCE_RULES))}"
    if check_digit in DIGITS_ONLY_RULES and charset != "numeric":
        return f"the check-digit rule {check_digit!r} reads digits only: it cannot check " \
            f"an alphanumeric reference (use paynet or none)"
    if check_digit != "none" and max_length < MIN_CHECKED_LENGTH:
        return f"a check digit needs a reference of at least {MIN_CHECKED_LENGTH} characters"
    return None


def clabe_check_digit(first17: str) -> str:
    weights = (3, 7, 1)
    total = sum((int(d) * weights[i % 3]) % 10 for i, d in enumerate(first17))
    return str((10 - total % 10) % 10)


def clabe_is_valid(clabe: str) -> bool:
    return (
        is_ascii_digits(clabe, length=18)
        and clabe_check_digit(clabe[:17]) == clabe[17]
    )


def make_clabe(bank_code: str, plaza_code: str, account_number: str) -> str:
    """3-digit bank + 3-digit plaza + the account number in 11 digits + check digit."""
    if not (is_ascii_digits(bank_code, length=3) and is_ascii_digits(plaza_code, length=3)
            and is_ascii_digits(account_number, max_length=11)):
        raise ValueError("a CLABE is made of 3 + 3 + up to 11 digits 0-9")
    first17 = f"{bank_code}{plaza_code}{int(account_number):011d}"
    return first17 + clabe_check_digit(first17)
