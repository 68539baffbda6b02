"""Money as integer centavos. Never a float, anywhere."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# Up to 2 decimals; thousands separators allowed only in groups of three.
_PESOS = re.compile(r"^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")
MAX_CENTAVOS = 10**15  # far beyond any balance; keeps BIGINT arithmetic safe


def parse_pesos(text: str) -> int:
    """'1,234.5' -> 123450. Raises ValueError with a reason a person can read."""
    if not isinstance(text, str):
        raise ValueError("the amount must be text such as 349.50")
    match = _PESOS.match(text.strip())
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
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    centavos = amount * 100
    if centavos != centavos.to_integral_value():
        raise ValueError(f"{value!r} has fractions of a centavo")
    return int(centavos)


def to_decimal(centavos: int) -> Decimal:
    return (Decimal(centavos) / 100).quantize(Decimal("0.01"))


def format_mxn(centavos: int) -> str:
    """123450 -> '$1,234.50' (negative amounts keep their sign in front)."""
    sign = "-" if centavos < 0 else ""
    whole, cents = divmod(abs(centavos), 100)
    return f"{sign}${whole:,}.{cents:02d}"
