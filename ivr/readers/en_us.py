"""American English readers (the interface: ivr/readers/__init__.py).

The bank's money is Mexican pesos, so amounts say pesos and centavos ("six
hundred fifty pesos and fifty centavos"). Numbers drop the British "and" and
num2words' commas ("one million two hundred thousand"); dates and times are
said in words ("November twentieth, twenty twenty-six", "two thirty in the
afternoon"), so Twilio's voice and our recordings say exactly the same thing.
A reading of several values (an amount rule, the agents' hours) is a `Spoken`
whose values keep their kind, so play mode reads each from recorded words.
"""
from __future__ import annotations

import datetime as dt

from num2words import num2words

from ivr.readers import common
from ivr.spoken import Segment, Spoken

LANGUAGE = "en-US"
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
GROUP_JOIN = "and"  # between two values read digit by digit
ACCOUNT_KINDS = {"cheques": "checking", "ahorro": "savings", "nomina": "payroll"}
CREDENTIALS = {"card": "card", "account": "account"}


def _american(words: str) -> str:
    # num2words writes British English: "one hundred and five", "one million, two…".
    return " ".join(w for w in words.replace(",", "").split() if w != "and")


def digits(value) -> str:
    """'5671' -> 'five, six, seven, one'; '12345678 0626' -> '…, seven, eight;
    and zero, six, two, six' (references one after the other)."""
    return common.digits(value, DIGIT_WORDS, GROUP_JOIN)


def spell(number: int) -> str:
    return _american(num2words(int(number), lang="en"))


def amount(centavos: int) -> str:
    pesos, cents = divmod(int(centavos), 100)
    cents_words = "one centavo" if cents == 1 else f"{spell(cents)} centavos"
    if pesos == 0:
        return cents_words
    pesos_words = "one peso" if pesos == 1 else f"{spell(pesos)} pesos"
    return pesos_words if cents == 0 else f"{pesos_words} and {cents_words}"


def date(value: dt.date | str) -> str:
    value = common.when(value)
    day = num2words(value.day, lang="en", to="ordinal")
    return f"{MONTHS[value.month - 1]} {day}, {_american(num2words(value.year, lang='en', to='year'))}"


def time(value: dt.datetime | dt.time | str) -> str:
    value = common.when(value)
    hour, minute = value.hour, value.minute
    period = ("at night" if hour == 0 else "in the morning" if hour < 12
              else "in the afternoon" if hour < 18 else "in the evening")
    said = spell(hour % 12 or 12)
    if minute == 0:
        return f"{said} o'clock {period}"
    minutes = spell(minute) if minute >= 10 else f"oh {spell(minute)}"
    return f"{said} {minutes} {period}"


# The words between the values of a composed reading (recorded for play mode).
FROM, TO, THROUGH, AND, ALL_DAY, MIDNIGHT, ONLY = "from", "to", "through", "and", "all day", \
    "midnight", "it only accepts"


def _clock(text: str) -> Segment:
    return common.clock(text, time=time, midnight=MIDNIGHT)


def hours(hours) -> Spoken:
    """'mon-fri 08:00-20:00; sat 09:00-14:00' → 'Monday through Friday from eight
    o'clock in the morning to eight o'clock in the evening and Saturday from nine
    o'clock in the morning to two o'clock in the afternoon'."""
    segments = []
    for i, span in enumerate(hours.spans):
        if i:
            segments.append(Segment(f" {AND} "))
        segments.append(Segment(DAY_NAMES[span.first_day]))
        if span.first_day != span.last_day:
            segments += [Segment(f" {THROUGH} "), Segment(DAY_NAMES[span.last_day])]
        if (span.start, span.end) == ("00:00", "24:00"):
            segments += [Segment(", "), Segment(ALL_DAY)]
        else:
            segments += [Segment(f" {FROM} "), _clock(span.start), Segment(f" {TO} "),
                         _clock(span.end)]
    return Spoken(segments)


def account_kind(kind: str) -> str:
    return ACCOUNT_KINDS.get(kind, kind)


def credential(method: str) -> str:
    return CREDENTIALS.get(method, CREDENTIALS["account"])


def amount_rule(*, fixed: int | None, low: int, high: int) -> Spoken:
    # In words, not "$1.00": an American voice reads "$" as dollars.
    return common.amount_rule(fixed=fixed, low=low, high=high, amount=amount, only=ONLY,
                              between=(FROM, TO))


def recorded_words() -> tuple[str, ...]:
    return (*MONTHS, *ACCOUNT_KINDS.values(), *DAY_NAMES, FROM, TO, THROUGH, AND, ALL_DAY,
            MIDNIGHT, ONLY)
