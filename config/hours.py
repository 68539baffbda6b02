"""Hours of operation, e.g. AGENT_HOURS="mon-fri 08:00-20:00; sat 09:00-14:00".

Days are mon tue wed thu fri sat sun, alone or as a range; times are HH:MM in
the bank's time zone, 24:00 meaning midnight at the end of the day.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# [0-9], not \d: "０８:００" is not a time an operator meant (banking_core/digits.py).
_PART = re.compile(r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?)\s+(?P<start>[0-9]{2}:[0-9]{2})"
                   r"-(?P<end>[0-9]{2}:[0-9]{2})$")


@dataclasses.dataclass(frozen=True)
class Span:
    """One part as written: first and last weekday (0 = Monday), HH:MM times."""

    first_day: int
    last_day: int
    start: str
    end: str


@dataclasses.dataclass(frozen=True)
class Hours:
    windows: tuple[tuple[int, int, int], ...]  # (weekday, start minute, end minute)
    spans: tuple[Span, ...]
    text: str

    def open_at(self, local: dt.datetime) -> bool:
        minute = local.hour * 60 + local.minute
        return any(day == local.weekday() and start <= minute < end
                   for day, start, end in self.windows)


def _minutes(text: str) -> int:
    hours, minutes = int(text[:2]), int(text[3:])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{text} is not a time of day")
    return hours * 60 + minutes


def parse_hours(text: str) -> Hours:
    windows, spans = [], []
    for part in filter(None, (p.strip().lower() for p in text.split(";"))):
        match = _PART.match(part)
        if not match:
            raise ValueError(f"{part!r}: expected e.g. 'mon-fri 08:00-20:00'")
        first, _, last = match["days"].partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"{part!r}: days are {', '.join(DAYS)}")
        start, end = _minutes(match["start"]), _minutes(match["end"])
        if start >= end:
            raise ValueError(f"{part!r}: the window must end after it starts")
        a, b = DAYS.index(first), DAYS.index(last or first)
        days = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
        windows += [(day, start, end) for day in days]
        spans.append(Span(a, b, match["start"], match["end"]))
    if not windows:
        raise ValueError("no opening hours given")
    return Hours(windows=tuple(windows), spans=tuple(spans), text=text)
