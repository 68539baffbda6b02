"""Prompt texts as data (`ivr/prompts/<language>.yaml`) and how values are read.

Identifiers (account endings, service keys, references, folios) are read digit
by digit; amounts in words ("trescientos cuarenta y nueve pesos con cincuenta
centavos", by num2words); dates and times as a person says them.

A rendered prompt is a `Spoken`: its text, plus the segments it was made of
(the prompt's own words, and each value with how it is read), so that play mode
(`ivr/audio/`) can play recordings of the same words Twilio's <Say> would say.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import yaml
from num2words import num2words

PROMPT_DIR = Path(__file__).with_name("prompts")
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)(?::(digits|amount|date|time))?\}")
MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
          "septiembre", "octubre", "noviembre", "diciembre")
DIGIT_WORDS = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho",
               "nueve")


class PromptError(ValueError):
    """A prompt file is invalid, or a prompt asked for a value nobody captured."""


def say_digits(value) -> str:
    """'5671' -> 'cinco, seis, siete, uno'; letters are spelled as they are."""
    # "0" <= ch <= "9", not isdigit(): int("²") raises and int("１") reads 1.
    return ", ".join(DIGIT_WORDS[int(ch)] if "0" <= ch <= "9" else ch for ch in str(value)
                     if not ch.isspace())


def say_amount(centavos: int) -> str:
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


def say_date(value: dt.date | str) -> str:
    value = _when(value)
    return f"{value.day} de {MONTHS[value.month - 1]} de {value.year}"


def say_time(value: dt.datetime | dt.time | str) -> str:
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


_FORMATTERS = {"digits": say_digits, "amount": say_amount, "date": say_date, "time": say_time}


@dataclasses.dataclass(frozen=True)
class Segment:
    """A stretch of a rendered prompt: `text` exactly as it is said.

    kind "text" is the prompt's own words; "digits", "amount", "date" and "time"
    are a value read that way; "value" is a captured value inserted as it is."""

    text: str
    kind: str = "text"
    value: object = None


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


@dataclasses.dataclass(frozen=True)
class PromptCatalog:
    language: str
    voice: str
    prompts: dict[str, tuple[str, ...]]

    def keys(self) -> set[str]:
        return set(self.prompts)

    def text(self, key: str, attempt: int = 1) -> str:
        """The variant for this attempt: the last one keeps playing after the list ends."""
        variants = self.prompts[key]
        return variants[min(max(attempt, 1), len(variants)) - 1]

    def render(self, key: str, values: dict, attempt: int = 1) -> Spoken:
        template, segments, start = self.text(key, attempt), [], 0
        for match in _PLACEHOLDER.finditer(template):
            if match.start() > start:
                segments.append(Segment(template[start:match.start()]))
            segments.extend(self._fill(key, match, values))
            start = match.end()
        if start < len(template):
            segments.append(Segment(template[start:]))
        return Spoken(segments)

    @staticmethod
    def _fill(key: str, match: re.Match, values: dict) -> tuple[Segment, ...]:
        name, kind = match.group(1), match.group(2)
        if name not in values or values[name] is None:
            raise PromptError(f"prompt {key!r} needs {name!r}, which was not captured")
        value = values[name]
        if kind:
            return (Segment(_FORMATTERS[kind](value), kind, value),)
        if isinstance(value, Spoken):  # a prompt rendered earlier, e.g. balance lines
            return value.segments
        return (Segment(str(value), "value", value),)

    def static_texts(self) -> set[str]:
        """Every stretch of prompt text between placeholders, in every variant:
        what play mode needs recorded."""
        return {piece for variants in self.prompts.values() for variant in variants
                for piece in _PLACEHOLDER.split(variant)[::3] if piece}


def parse_prompts(text: str, *, source: str) -> PromptCatalog:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PromptError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("prompts"), dict):
        raise PromptError(f"{source}: expected language, voice and prompts")
    prompts = {}
    for key, value in data["prompts"].items():
        variants = [value] if isinstance(value, str) else value
        if not isinstance(variants, list) or not variants \
                or not all(isinstance(v, str) and v.strip() for v in variants):
            raise PromptError(f"{source}: prompt {key!r} must be a text or a list of texts")
        for variant in variants:
            for name in re.findall(r"\{([^}]*)\}", variant):
                if not _PLACEHOLDER.fullmatch("{" + name + "}"):
                    raise PromptError(f"{source}: prompt {key!r} has a bad placeholder {{{name}}}")
        prompts[str(key)] = tuple(variants)
    return PromptCatalog(language=str(data.get("language", "es-MX")),
                         voice=str(data.get("voice", "Polly.Mia")), prompts=prompts)


def load_prompts(language: str = "es-MX") -> PromptCatalog:
    path = PROMPT_DIR / f"{language}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_prompts(text, source=str(path))
