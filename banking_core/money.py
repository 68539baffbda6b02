"""Money as integer centavos. Never a float, anywhere."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Up to 2 decimals; thousands separators allowed only in groups of three.
# Digits are 0-9 only (re.ASCII also keeps \s to ASCII spaces): `\d` would take
# "١٢٣" or "１２" and int() would post them as pesos (banking_core/digits.py).
_PESOS = re.compile(r"\$?\s*([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]{1,2}))?", re.ASCII)
MAX_CENTAVOS = 10**15  # far beyond any balance; keeps BIGINT arithmetic safe


def parse_pesos(text: str) -> int:
    """'1,234.5' -> 123450. Raises ValueError with a reason a person can read."""
    if not isinstance(text, str):
        raise ValueError("the amount must be text such as 349.50")
    match = _PESOS.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not an amount in pesos such as 349.50")
    whole = int(match.group(1).replace(",", ""))
    cents = (match.group(2) or "0").ljust(2, "0")
    centavos = whole * 100 + int(cents)
    if centavos >= MAX_CENTAVOS:
        raise ValueError(f"{text!r} is too large")
    return centavos


def centavos_from_decimal(value: Decimal | int | str) -> int:
    """Exact conversion from a Decimal number of pesos; refuses fractions of a centavo."""
    text = str(value)
    # Decimal() reads "١٢٣" as 123 and "Infinity" as a number: neither is an amount.
    if not text.isascii():
        raise ValueError(f"{value!r} is not a number written with digits 0-9")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not a number")
    centavos = amount * 100
    if centavos != centavos.to_integral_value():
        raise ValueError(f"{value!r} has fractions of a centavo")
    return int(centavos)


def format_mxn(centavos: int) -> str:
    """123450 -> '$1,234.50' (negative amounts keep their sign in front)."""
    sign = "-" if centavos < 0 else ""
    whole, cents = divmod(abs(centavos), 100)
    return f"{sign}${whole:,}.{cents:02d}"
