"""Mexican Spanish readers (the interface: ivr/readers/__init__.py).

Identifiers digit by digit ("cinco, seis, siete, uno"); amounts in words by
num2words ("trescientos cuarenta y nueve pesos con cincuenta centavos"); dates
and times as a person says them ("20 de noviembre de 2026", "las dos con
treinta minutos de la tarde").
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from num2words import num2words

from banking_core.money import format_mxn

LANGUAGE = "es-MX"
DIGIT_WORDS = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho",
               "nueve")
MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
          "septiembre", "octubre", "noviembre", "diciembre")
DAY_NAMES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
ACCOUNT_KINDS = {"cheques": "cheques", "ahorro": "ahorro", "nomina": "nómina"}
CREDENTIALS = {"card": "tarjeta", "account": "cuenta"}


def digits(value) -> str:
    """'5671' -> 'cinco, seis, siete, uno'; letters are spelled as they are."""
    # "0" <= ch <= "9", not isdigit(): int("²") raises and int("１") reads 1.
    return ", ".join(DIGIT_WORDS[int(ch)] if "0" <= ch <= "9" else ch for ch in str(value)
                     if not ch.isspace())


def spell(number: int) -> str:
    return num2words(int(number), lang="es")


def amount(centavos: int) -> str:
    pesos, cents = divmod(int(centavos), 100)
    cents_words = "un centavo" if cents == 1 else f"{num2words(cents, lang='es')} centavos"
    if pesos == 0:
        return cents_words
    words = num2words(Decimal(pesos), lang="es", to="currency", currency="MXN")
    words = words.removesuffix(" con cero centavos")
    # "un millón de pesos": Spanish puts "de" between millón(es) and the noun.
    words = re.sub(r"\b(millón|millones) pesos\b", r"\1 de pesos", words)
    return words if cents == 0 else f"{words} con {cents_words}"


def _when(value):
    # Call state is JSON: dates and times travel in it as ISO text.
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def date(value: dt.date | str) -> str:
    value = _when(value)
    return f"{value.day} de {MONTHS[value.month - 1]} de {value.year}"


def time(value: dt.datetime | dt.time | str) -> str:
    value = _when(value)
    hour, minute = value.hour, value.minute
    hours = "una" if hour in (1, 13) else num2words(hour if hour <= 12 else hour - 12, lang="es")
    if hour == 0:
        hours = "doce"
    period = ("de la madrugada" if hour < 6 else "de la mañana" if hour < 12
              else "del día" if hour == 12 else "de la tarde" if hour < 20 else "de la noche")
    if minute == 0:
        return f"las {hours} {period}" if hours != "una" else f"la una {period}"
    article = "la" if hours == "una" else "las"
    return f"{article} {hours} con {num2words(minute, lang='es')} minutos {period}"


def hours(hours) -> str:
    """'mon-fri 08:00-20:00; sat 09:00-14:00' → 'de lunes a viernes de 08:00 a 20:00
    horas y sábado de 09:00 a 14:00 horas'."""
    parts = []
    for span in hours.spans:
        day_words = (DAY_NAMES[span.first_day] if span.first_day == span.last_day else
                     f"de {DAY_NAMES[span.first_day]} a {DAY_NAMES[span.last_day]}")
        parts.append(f"{day_words} de {span.start} a {span.end} horas")
    return " y ".join(parts)


def account_kind(kind: str) -> str:
    return ACCOUNT_KINDS.get(kind, kind)


def credential(method: str) -> str:
    return CREDENTIALS.get(method, CREDENTIALS["account"])


def amount_rule(*, fixed: int | None, low: int, high: int) -> str:
    return f"solo acepta {format_mxn(fixed)}" if fixed else \
        f"de {format_mxn(low)} a {format_mxn(high)}"


def recorded_words() -> tuple[str, ...]:
    return (*MONTHS, *ACCOUNT_KINDS.values())
