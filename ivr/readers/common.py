"""What every language's readers do the same way, given that language's words:
a language module keeps only its words and what its grammar changes."""
from __future__ import annotations

import datetime as dt
from typing import Callable

from ivr.spoken import Segment, Spoken


def digit_groups(value: str) -> list[str]:
    """How a person reads a long number aloud, in short groups a listener can
    hold: up to 4 digits at once ('5671'); lengths that divide by 4 in fours
    (a card: 4-4-4-4); otherwise threes, the last group taking what is left
    (a folio or a 10-digit reference: 3-3-4, as a phone number is read)."""
    n = len(value)
    if n <= 4 or n % 4 == 0:
        size = min(n, 4) or 1
        return [value[i:i + size] for i in range(0, n, size)]
    groups, start = [], 0
    while n - start > 4:
        groups.append(value[start:start + 3])
        start += 3
    return groups + [value[start:]]


def digits(value, digit_words: tuple[str, ...], group_join: str) -> str:
    """Each digit as its word, letters as they are, in groups ('nueve ocho
    siete, seis cinco cuatro, tres dos uno siete'); several values separated by
    spaces (a payment's references) read one after the other, never as one
    number, with a pause (';') and `group_join` between them."""
    # "0" <= ch <= "9", not isdigit(): int("²") raises and int("１") reads 1.
    def word(ch: str) -> str:
        return digit_words[int(ch)] if "0" <= ch <= "9" else ch
    return f"; {group_join} ".join(
        ", ".join(" ".join(word(ch) for ch in group) for group in digit_groups(value))
        for value in str(value).split())


def when(value):
    # Call state is JSON: dates and times travel in it as ISO text.
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def clock(text: str, *, time: Callable[[dt.time], str], midnight: str) -> Segment:
    """'08:00' -> a time segment read by `time`; '24:00' (the end of the day)
    -> `midnight`."""
    hour, minute = int(text[:2]), int(text[3:])
    if hour == 24:
        return Segment(midnight)
    at = dt.time(hour, minute)
    return Segment(time(at), "time", at)


def amount_rule(*, fixed: int | None, low: int, high: int, amount: Callable[[int], str],
                only: str, between: tuple[str, str]) -> Spoken:
    """The amounts a service accepts, each an amount segment read by `amount`:
    `only` + the fixed amount, or `between` ('de', 'a') around the range."""
    if fixed:
        return Spoken([Segment(f"{only} "), Segment(amount(fixed), "amount", fixed)])
    start, end = between
    return Spoken([Segment(f"{start} "), Segment(amount(low), "amount", low),
                   Segment(f" {end} "), Segment(amount(high), "amount", high)])
