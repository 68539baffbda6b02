"""Mexican Spanish readers (the interface: ivr/readers/__init__.py).

Identifiers digit by digit ("cinco, seis, siete, uno"); amounts in words by
num2words ("trescientos cuarenta y nueve pesos con cincuenta centavos"); dates
and times as a person says them ("20 de noviembre de 2026", "las dos con
treinta minutos de la tarde").

Before a masculine noun Spanish shortens "uno": "veintiún pesos con veintiún
centavos", "treinta y un centavos", "la una con un minuto". num2words does
this in its currency reading (its plain cardinal says "veintiuno"), so every
counted noun here goes through that reading (`counted`), never a hand-written
rule. A reading of several values (an amount rule, the agents' hours) is a
`Spoken` whose values keep their kind, so play mode reads each from recorded
words and say mode never gets "$1.00" or "08:00".
"""
from __future__ import annotations

import datetime as dt
import functools
import re

from num2words import num2words
from num2words.lang_ES import Num2Word_ES

from ivr.readers import common
from ivr.spoken import Segment, Spoken

LANGUAGE = "es-MX"
DIGIT_WORDS = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho",
               "nueve")
MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
          "septiembre", "octubre", "noviembre", "diciembre")
DAY_NAMES = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
GROUP_JOIN = "y"  # between two values read digit by digit
ACCOUNT_KINDS = {"cheques": "cheques", "ahorro": "ahorro", "nomina": "nómina"}
CREDENTIALS = {"card": "tarjeta", "account": "cuenta"}


def digits(value) -> str:
    """'5671' -> 'cinco, seis, siete, uno'; '12345678 0626' -> '…, siete, ocho;
    y cero, seis, dos, seis' (references one after the other)."""
    return common.digits(value, DIGIT_WORDS, GROUP_JOIN)


def spell(number: int) -> str:
    return num2words(int(number), lang="es")


def amount(centavos: int) -> str:
    pesos, cents = divmod(int(centavos), 100)
    # num2words takes an int as centavos: "veintiún pesos con veintiún centavos".
    words = num2words(int(centavos), lang="es", to="currency", currency="MXN")
    if pesos == 0:
        words = words.removeprefix("cero pesos con ")
    elif cents == 0:
        words = words.removesuffix(" con cero centavos")
    # "un millón de pesos": Spanish puts "de" between millón(es) and the noun.
    return re.sub(r"\b(millón|millones) pesos\b", r"\1 de pesos", words)


@functools.lru_cache(maxsize=None)
def _counter(singular: str, plural: str) -> Num2Word_ES:
    converter = Num2Word_ES()
    # The currency reading of num2words, for any masculine noun: the one place
    # the library shortens "uno" before a noun.
    converter.CURRENCY_FORMS = {"N": ((singular, plural), ("", ""))}
    return converter


def counted(number: int, singular: str, plural: str) -> str:
    """1 'minuto' -> 'un minuto'; 21 -> 'veintiún minutos'; 31 -> 'treinta y un minutos'."""
    words = _counter(singular, plural).to_currency(int(number) * 100, currency="N")
    return words.split(" con ")[0]


def date(value: dt.date | str) -> str:
    value = common.when(value)
    return f"{value.day} de {MONTHS[value.month - 1]} de {value.year}"


def time(value: dt.datetime | dt.time | str) -> str:
    value = common.when(value)
    hour, minute = value.hour, value.minute
    hours = "una" if hour in (1, 13) else num2words(hour if hour <= 12 else hour - 12, lang="es")
    if hour == 0:
        hours = "doce"
    period = ("de la madrugada" if hour < 6 else "de la mañana" if hour < 12
              else "del día" if hour == 12 else "de la tarde" if hour < 20 else "de la noche")
    if minute == 0:
        return f"las {hours} {period}" if hours != "una" else f"la una {period}"
    article = "la" if hours == "una" else "las"
    return f"{article} {hours} con {counted(minute, 'minuto', 'minutos')} {period}"


# The words between the values of a composed reading (recorded for play mode).
FROM, TO, AND, ALL_DAY, MIDNIGHT, ONLY = "de", "a", "y", "todo el día", "la medianoche", \
    "solo acepta"


def _clock(text: str) -> Segment:
    return common.clock(text, time=time, midnight=MIDNIGHT)


def hours(hours) -> Spoken:
    """'mon-fri 08:00-20:00; sat 09:00-14:00' → 'de lunes a viernes de las ocho de la
    mañana a las ocho de la noche y sábado de las nueve de la mañana a las dos de la
    tarde'."""
    segments = []
    for i, span in enumerate(hours.spans):
        if i:
            segments.append(Segment(f" {AND} "))
        if span.first_day != span.last_day:
            segments += [Segment(f"{FROM} "), Segment(DAY_NAMES[span.first_day]),
                         Segment(f" {TO} ")]
        segments.append(Segment(DAY_NAMES[span.last_day]))
        if (span.start, span.end) == ("00:00", "24:00"):
            segments += [Segment(" "), Segment(ALL_DAY)]
        else:
            segments += [Segment(f" {FROM} "), _clock(span.start), Segment(f" {TO} "),
                         _clock(span.end)]
    return Spoken(segments)


def account_kind(kind: str) -> str:
    return ACCOUNT_KINDS.get(kind, kind)


def credential(method: str) -> str:
    return CREDENTIALS.get(method, CREDENTIALS["account"])


def amount_rule(*, fixed: int | None, low: int, high: int) -> Spoken:
    """'de un peso a cincuenta mil pesos', each amount read as amounts are."""
    return common.amount_rule(fixed=fixed, low=low, high=high, amount=amount, only=ONLY,
                              between=(FROM, TO))


def recorded_words() -> tuple[str, ...]:
    return (*MONTHS, *ACCOUNT_KINDS.values(), *DAY_NAMES, FROM, TO, AND, ALL_DAY, MIDNIGHT,
            ONLY)
