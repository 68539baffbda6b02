"""American English readers (the interface: ivr/readers/__init__.py).

The bank's money is Mexican pesos, so amounts say pesos and centavos ("six
hundred fifty pesos and fifty centavos"). Numbers drop the British "and" and
num2words' commas ("one million two hundred thousand"); dates and times are
said in words ("November twentieth, twenty twenty-six", "two thirty in the
afternoon"), so Twilio's voice and our recordings say exactly the same thing.
"""
from __future__ import annotations

import datetime as dt

from num2words import num2words

LANGUAGE = "en-US"
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ACCOUNT_KINDS = {"cheques": "checking", "ahorro": "savings", "nomina": "payroll"}
CREDENTIALS = {"card": "card", "account": "account"}


def _american(words: str) -> str:
    # num2words writes British English: "one hundred and five", "one million, two…".
    return " ".join(w for w in words.replace(",", "").split() if w != "and")


def digits(value) -> str:
    """'5671' -> 'five, six, seven, one'; letters are spelled as they are."""
    # "0" <= ch <= "9", not isdigit(): int("²") raises and int("１") reads 1.
    return ", ".join(DIGIT_WORDS[int(ch)] if "0" <= ch <= "9" else ch for ch in str(value)
                     if not ch.isspace())


def spell(number: int) -> str:
    return _american(num2words(int(number), lang="en"))


def amount(centavos: int) -> str:
    pesos, cents = divmod(int(centavos), 100)
    cents_words = "one centavo" if cents == 1 else f"{spell(cents)} centavos"
    if pesos == 0:
        return cents_words
    pesos_words = "one peso" if pesos == 1 else f"{spell(pesos)} pesos"
    return pesos_words if cents == 0 else f"{pesos_words} and {cents_words}"


def _when(value):
    # Call state is JSON: dates and times travel in it as ISO text.
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def date(value: dt.date | str) -> str:
    value = _when(value)
    day = num2words(value.day, lang="en", to="ordinal")
    return f"{MONTHS[value.month - 1]} {day}, {_american(num2words(value.year, lang='en', to='year'))}"


def time(value: dt.datetime | dt.time | str) -> str:
    value = _when(value)
    hour, minute = value.hour, value.minute
    period = ("at night" if hour == 0 else "in the morning" if hour < 12
              else "in the afternoon" if hour < 18 else "in the evening")
    said = spell(hour % 12 or 12)
    if minute == 0:
        return f"{said} o'clock {period}"
    minutes = spell(minute) if minute >= 10 else f"oh {spell(minute)}"
    return f"{said} {minutes} {period}"


def _clock(text: str) -> str:
    """'08:00' -> '8 AM', '14:30' -> '2:30 PM', '24:00' -> 'midnight'."""
    hour, minute = int(text[:2]), int(text[3:])
    if minute == 0 and hour in (0, 24):
        return "midnight"
    if minute == 0 and hour == 12:
        return "noon"
    shown = f"{hour % 12 or 12}" + (f":{minute:02d}" if minute else "")
    return f"{shown} {'AM' if hour < 12 else 'PM'}"


def hours(hours) -> str:
    """'mon-fri 08:00-20:00; sat 09:00-14:00' → 'Monday through Friday from 8 AM
    to 8 PM and Saturday from 9 AM to 2 PM'."""
    parts = []
    for span in hours.spans:
        day_words = (DAY_NAMES[span.first_day] if span.first_day == span.last_day else
                     f"{DAY_NAMES[span.first_day]} through {DAY_NAMES[span.last_day]}")
        if (span.start, span.end) == ("00:00", "24:00"):
            parts.append(f"{day_words}, all day")
        else:
            parts.append(f"{day_words} from {_clock(span.start)} to {_clock(span.end)}")
    return " and ".join(parts)


def account_kind(kind: str) -> str:
    return ACCOUNT_KINDS.get(kind, kind)


def credential(method: str) -> str:
    return CREDENTIALS.get(method, CREDENTIALS["account"])


def amount_rule(*, fixed: int | None, low: int, high: int) -> str:
    # In words, not "$1.00": an American voice reads "$" as dollars.
    return f"it only accepts {amount(fixed)}" if fixed else \
        f"from {amount(low)} to {amount(high)}"


def recorded_words() -> tuple[str, ...]:
    return (*MONTHS, *ACCOUNT_KINDS.values())
