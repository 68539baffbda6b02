"""A rendered prompt: its text, and the segments it was made of.

Kept apart from ivr/prompts.py so the readers (ivr/readers/) can compose a
reading of several values, each still read by its kind (an amount rule "de
{low} a {high}", the agents' hours), without importing the prompt catalogs.
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Segment:
    """A stretch of a rendered prompt: `text` exactly as it is said.

    kind "text" is the prompt's own words; "digits", "amount", "date" and "time"
    are a value read that way; "value" is a captured value inserted as it is."""

    text: str
    kind: str = "text"
    value: object = None
    # Set only on a stretch said in another language than the prompt around
    # it (the greeting's offer of English): that language and its voice.
    language: str | None = None
    voice: str | None = None


class Spoken(str):
    """A rendered prompt: a plain string (say mode sends it as it is) that also
    remembers its segments. Operations that concatenate rendered prompts keep
    them with `join_spoken`; a value that is a Spoken lends its segments to the
    prompt it fills. Anything else done to it yields a plain string, which play
    mode still plays if it is a recorded text and says otherwise."""

    segments: tuple[Segment, ...]

    def __new__(cls, segments):
        spoken = super().__new__(cls, "".join(s.text for s in segments))
        spoken.segments = tuple(segments)
        return spoken


def join_spoken(parts, separator: str = " ") -> Spoken:
    segments = []
    for i, part in enumerate(parts):
        if i:
            segments.append(Segment(separator))
        segments.extend(part.segments if isinstance(part, Spoken) else (Segment(str(part)),))
    return Spoken(segments)
