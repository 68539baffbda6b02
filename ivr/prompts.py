"""Prompt texts as data (`ivr/prompts/<language>.yaml`), one catalog per language.

A catalog declares its language, its <Say> voice and the language it offers
callers (the greeting's "For English, press 9"); how its values are read aloud
— digits, amounts, dates, times — is the readers module of that language
(`ivr/readers/`). `load_catalogs` loads every catalog and checks them against
each other: the same keys, the same placeholders per key, every key the code
renders by name.

A rendered prompt is a `Spoken`: its text, plus the segments it was made of
(the prompt's own words, and each value with how it is read), so that play mode
(`ivr/audio/`) can play recordings of the same words Twilio's <Say> would say.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import yaml

from ivr import strict_yaml
from ivr.readers import Reader, ReaderError, reader_for
# A rendered prompt's types live in ivr/spoken.py, so readers can compose them too.
from ivr.spoken import Segment, Spoken, join_spoken  # noqa: F401 - re-exported

PROMPT_DIR = Path(__file__).with_name("prompts")
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)(?::(digits|amount|date|time))?\}")
# The value every catalog's prompts may use for the offer of another language:
# that language's own `language_offer` prompt, said in its language and voice.
LANGUAGE_OFFER = "language_offer"

# Prompts the code renders by name, outside the menu tree (which the menu
# validator checks): every catalog must have them. tests/unit/test_prompt_catalogs.py
# finds every key the code names and fails if one is missing here.
CODE_PROMPTS = frozenset({
    LANGUAGE_OFFER, "no_input", "no_input_entry", "invalid_option",   # ivr/interpreter.py
    "invalid_entry",
    "balance_line", "reason_too_short", "reason_too_long",            # ivr/operations.py
    "reason_bad_check_digit", "reason_not_numeric", "reason_missing",
    "session_ended", "goodbye",                                       # ivr/webhooks.py
    "state_lost", "state_lost_paid", "state_lost_not_paid",           # ivr/lost_state.py
    "technical_problem", "agent_connect_failed",                      # ivr/blueprint.py
    "agents_closed", "offer_callback", "callback_no_number",          # ivr/transfer.py
    "transfer_agent",
    "queue_too_long", "queue_taken", "queue_next", "queue_position",  # ivr/queue.py
    "callback_registered", "callback_failed", "queue_back", "connecting_agent",
    "hold_agent", "agent_gone", "verify_nip", "verify_not_checked", "verify_ok",
    "verify_blocked", "verify_failed",
    "agent_not_allowed", "agent_no_call", "agent_caller_gone",        # ivr/agent_leg.py
    "agent_caller_not_in_line", "agent_call_ended",
})


class PromptError(ValueError):
    """A prompt file is invalid, or a prompt asked for a value nobody captured."""


def by_language(text, language: str, voice: str) -> list[tuple[str, str, str]]:
    """`text` as <Say> elements: (words, language, voice) for each stretch in
    one language. A prompt with no foreign stretch is one element, as it is."""
    segments = text.segments if isinstance(text, Spoken) else ()
    if all(s.language is None for s in segments):
        return [(str(text), language, voice)]
    parts: list[tuple[str, str, str]] = []
    for segment in segments:
        said = (segment.language or language, segment.voice or voice)
        if parts and parts[-1][1:] == said:
            parts[-1] = (parts[-1][0] + segment.text, *said)
        else:
            parts.append((segment.text, *said))
    return [(words.strip(), *said) for words, *said in parts if words.strip()]


@dataclasses.dataclass(frozen=True)
class PromptCatalog:
    language: str
    voice: str
    prompts: dict[str, tuple[str, ...]]
    reader: Reader = dataclasses.field(default=None, compare=False, repr=False)
    offers: str | None = None  # the language its greeting offers (key 9 at the first menu)
    recording_voice: str | None = None  # espeak-ng's, for `ivr audio build`
    # Values every rendering may use besides the call's: the language offer.
    constants: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)
    # Variants without a placeholder, rendered once (a Spoken is immutable):
    # most of what a turn says.
    _fixed: dict = dataclasses.field(default_factory=dict, init=False, compare=False,
                                     repr=False)

    def keys(self) -> set[str]:
        return set(self.prompts)

    def text(self, key: str, attempt: int = 1) -> str:
        """The variant for this attempt: the last one keeps playing after the list ends."""
        variants = self.prompts[key]
        return variants[min(max(attempt, 1), len(variants)) - 1]

    def placeholders(self, key: str) -> set[str]:
        """Every placeholder of the key, in any variant, as written: "amount:amount"."""
        return {m.group(0)[1:-1] for variant in self.prompts[key]
                for m in _PLACEHOLDER.finditer(variant)}

    def fixed(self, key: str, attempt: int = 1) -> Spoken | None:
        """The variant rendered, if it has no placeholder and was rendered
        before: then no values are needed (the interpreter's `_say`)."""
        return self._fixed.get(self.text(key, attempt))

    def render(self, key: str, values: dict, attempt: int = 1) -> Spoken:
        template = self.text(key, attempt)
        fixed = self._fixed.get(template)
        if fixed is not None:
            return fixed
        segments, start = [], 0
        for match in _PLACEHOLDER.finditer(template):
            if match.start() > start:
                segments.append(Segment(template[start:match.start()]))
            segments.extend(self._fill(key, match, values))
            start = match.end()
        if start < len(template):
            segments.append(Segment(template[start:]))
        spoken = Spoken(segments)
        if start == 0:  # no placeholder: the same every time
            self._fixed[template] = spoken
        return spoken

    def foreign(self, key: str) -> Spoken:
        """The prompt as said inside another language's prompt: every segment
        marked with this catalog's language and voice."""
        return Spoken([dataclasses.replace(s, language=self.language, voice=self.voice)
                       for s in self.render(key, {}).segments])

    def _fill(self, key: str, match: re.Match, values: dict) -> tuple[Segment, ...]:
        name, kind = match.group(1), match.group(2)
        value = values.get(name)
        if value is None:
            value = self.constants.get(name)
        if value is None:
            raise PromptError(f"prompt {key!r} needs {name!r}, which was not captured")
        if kind:
            read = getattr(self.reader, kind)
            return (Segment(read(value), kind, value),)
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
        data = strict_yaml.load(text)
    except yaml.YAMLError as exc:
        raise PromptError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("prompts"), dict):
        raise PromptError(f"{source}: expected language, voice and prompts")
    unknown = set(data) - {"language", "voice", "offers", "recording_voice", "prompts"}
    if unknown:
        raise PromptError(f"{source}: unknown top-level field(s) {', '.join(sorted(unknown))}")
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
    language = str(data.get("language", "es-MX"))
    try:
        reader = reader_for(language)
    except ReaderError as exc:
        raise PromptError(f"{source}: {exc}") from None
    offers = data.get("offers")
    return PromptCatalog(language=language, voice=str(data.get("voice", "Polly.Mia")),
                         prompts=prompts, reader=reader,
                         offers=str(offers) if offers else None,
                         recording_voice=data.get("recording_voice"))


def load_prompts(language: str = "es-MX") -> PromptCatalog:
    """One catalog as its file has it (not checked against the others)."""
    path = PROMPT_DIR / f"{language}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PromptError(f"{path}: cannot read: {exc.strerror}") from None
    catalog = parse_prompts(text, source=str(path))
    if catalog.language != language:
        raise PromptError(f"{path}: declares language {catalog.language!r}, not {language!r}")
    return catalog


def available_languages(directory: Path = PROMPT_DIR) -> list[str]:
    return sorted(p.stem for p in Path(directory).glob("*.yaml"))


def load_catalogs(*, voices: dict[str, str] | None = None) -> dict[str, PromptCatalog]:
    """Every catalog of ivr/prompts/, checked against each other and linked:
    each one's `language_offer` value is the offered catalog's own prompt.
    `voices` overrides a language's <Say> voice (IVR_VOICE)."""
    catalogs = {}
    for language in available_languages():
        catalog = load_prompts(language)
        if voices and voices.get(language):
            catalog = dataclasses.replace(catalog, voice=voices[language])
        catalogs[language] = catalog
    return link_catalogs(catalogs, source=str(PROMPT_DIR))


def link_catalogs(catalogs: dict[str, PromptCatalog], *, source: str = "prompts",
                  required=CODE_PROMPTS) -> dict[str, PromptCatalog]:
    check_catalogs(catalogs, source=source, required=required)
    linked = {}
    for language, catalog in catalogs.items():
        offer = catalogs[catalog.offers].foreign(LANGUAGE_OFFER) if catalog.offers \
            else Spoken(())  # one language alone offers none
        linked[language] = dataclasses.replace(
            catalog, constants={**catalog.constants, LANGUAGE_OFFER: offer})
    return linked


def check_catalogs(catalogs: dict[str, PromptCatalog], *, source: str = "prompts",
                   required=CODE_PROMPTS) -> None:
    """Catalogs that can stand in for each other, or PromptError naming the
    language, the key and the difference: the same keys, the same placeholders
    per key (in any variant), every prompt the code renders by name, and an
    offered language that is one of them."""
    if not catalogs:
        raise PromptError(f"{source}: no prompt catalogs")
    ordered = sorted(catalogs.values(), key=lambda c: c.language)
    for catalog in ordered:
        missing = sorted(set(required) - catalog.keys())
        if missing:
            raise PromptError(f"{source}: {catalog.language} lacks prompt {missing[0]!r}, "
                              "which the code renders by name")
        if catalog.offers is not None and (catalog.offers == catalog.language
                                           or catalog.offers not in catalogs):
            raise PromptError(f"{source}: {catalog.language} offers {catalog.offers!r}, "
                              "which is not another catalog")
        if catalog.offers is None and len(catalogs) > 1:
            raise PromptError(f"{source}: {catalog.language} offers no language; with "
                              "several catalogs each names the one key 9 switches to")
    first = ordered[0]
    for other in ordered[1:]:
        for a, b in ((first, other), (other, first)):
            extra = sorted(a.keys() - b.keys())
            if extra:
                raise PromptError(f"{source}: prompt {extra[0]!r} is in {a.language} "
                                  f"but not in {b.language}")
        for key in sorted(first.keys()):
            mine, theirs = first.placeholders(key), other.placeholders(key)
            if mine != theirs:
                raise PromptError(
                    f"{source}: prompt {key!r} has placeholders {sorted(mine)} in "
                    f"{first.language} but {sorted(theirs)} in {other.language}")
