"""Transcripts: scripted calls a tester writes by hand (docs/transcripts.md).

A transcript is YAML: a name, optional `vars`, and `steps`, each one of

    ivr: EXPECTATION        what the IVR's latest answer must say
    press: "1411#"          keys (a string: YAML would drop a leading zero)
    silence                 say nothing: the gather times out
    hang_up                 the caller hangs up
    expect_transfer         the call ends in a transfer (optionally {queue, reason})
    expect_hangup           the IVR says goodbye and hangs up
    check: {…}              the bank's side (qa/checks.py)
    bank_change: {…}        the bank changes mid-call (qa/bank_changes.py): a
                            biller's reference rule, or it stops taking payments

An EXPECTATION is a text (found anywhere in what was said, ignoring case and
runs of spaces), {regex: …} (its named groups capture values), {any: [...]}
(one of several phrasings), {not: …}, or a list (all of them). `{{name}}`
inserts a var or an earlier capture — and only that: `$650.00` is plain text.

Parsing checks everything it can before a call is placed; a bad file raises
TranscriptError naming the file, the step, its line and what is wrong.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from banking_core.digits import is_ascii_digits
from banking_core.money import parse_pesos
from qa import bank_changes
from ivr import strict_yaml
from ivr.prompts import available_languages
from ivr.readers import reader_for

ACTIONS = ("ivr", "press", "silence", "hang_up", "expect_transfer", "expect_hangup", "check",
           "bank_change")
BARE_ACTIONS = {"silence", "hang_up", "expect_transfer", "expect_hangup"}
CHECKS = {
    "payment": {"folio", "amount", "service", "reference", "references", "account", "channel",
                "notified"},
    "no_payment": None,
    "credential_blocked": {"kind", "last4"},
    "call_record": {"outcome", "transfer_reason", "last_node", "login_method"},
}
TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*([a-z]+)\s*)?\}\}")
FILTERS = {"digits"}
KEYS = re.compile(r"^[0-9*#]+$")


class TranscriptError(ValueError):
    """A transcript file is malformed; the message says where and why."""


# -- expectations --------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Expect:
    kind: str  # text | regex | any | all | not
    value: Any  # the text or pattern; sub-expectations for any/all/not

    def describe(self) -> str:
        if self.kind == "text":
            return f"text containing {self.value!r}"
        if self.kind == "regex":
            return f"text matching /{self.value}/"
        if self.kind == "not":
            return f"no {self.value.describe()}"
        joiner = " or " if self.kind == "any" else " and "
        prefix = "one of: " if self.kind == "any" else "all of: "
        return prefix + joiner.join(e.describe() for e in self.value)

    def captures(self) -> set[str]:
        if self.kind == "regex":
            return set(re.compile(self.value).groupindex)
        if self.kind == "all":
            return set().union(*(e.captures() for e in self.value))
        return set()  # under any/not a group may not match: nothing sure to capture

    def templates(self) -> set[str]:
        if self.kind in {"text", "regex"}:
            return {m.group(1) for m in TEMPLATE.finditer(self.value)}
        items = [self.value] if self.kind == "not" else self.value
        return set().union(*(e.templates() for e in items))


def _expect(raw, where: str) -> Expect:
    if isinstance(raw, str):
        if not raw.strip():
            raise TranscriptError(f"{where}: an empty text matches anything; write what is said")
        return Expect("text", raw)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return Expect("text", str(raw))
    if isinstance(raw, list):
        if not raw:
            raise TranscriptError(f"{where}: an empty list expects nothing")
        return Expect("all", tuple(_expect(item, where) for item in raw))
    if isinstance(raw, dict) and len(raw) == 1:
        (kind, value), = raw.items()
        if kind == "regex":
            if not isinstance(value, str):
                raise TranscriptError(f"{where}: regex must be a text")
            try:
                re.compile(value)
            except re.error as exc:
                raise TranscriptError(f"{where}: bad regular expression {value!r}: {exc}") from None
            return Expect("regex", value)
        if kind in {"any", "all"}:
            if not isinstance(value, list) or len(value) < 1:
                raise TranscriptError(f"{where}: {kind} needs a list of expectations")
            return Expect(kind, tuple(_expect(item, where) for item in value))
        if kind == "not":
            return Expect("not", _expect(value, where))
        if kind in {"text", "contains"}:
            return _expect(str(value), where)
    raise TranscriptError(
        f"{where}: an expectation is a text, a list, or one of "
        "{regex: …}, {any: [...]}, {all: [...]}, {not: …}")


# -- steps ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Step:
    number: int  # 1-based, as a tester counts them
    line: int    # in the file, 1-based
    action: str
    value: Any = None

    def describe(self) -> str:
        if self.action == "press":
            return f'press "{self.value}"'
        if self.action == "ivr":
            return f"ivr: {self.value.describe()}"
        if self.action == "check":
            return "check " + ", ".join(self.value)
        return self.action.replace("_", " ")


@dataclasses.dataclass(frozen=True)
class Transcript:
    path: str
    name: str
    steps: tuple[Step, ...]
    vars: dict[str, str]
    caller: str | None = None
    description: str = ""


def _step(raw, number: int, line: int, where: str) -> Step:
    if isinstance(raw, str) and raw in BARE_ACTIONS:
        return Step(number, line, raw, {} if raw == "expect_transfer" else True)
    if not isinstance(raw, dict) or len(raw) != 1:
        raise TranscriptError(
            f"{where}: a step is one action: {', '.join(ACTIONS)} (e.g. `- press: \"1\"`)")
    (action, value), = raw.items()
    if action not in ACTIONS:
        close = [a for a in ACTIONS if a.startswith(str(action)[:3])]
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise TranscriptError(f"{where}: unknown action {action!r}{hint}; "
                              f"expected one of {', '.join(ACTIONS)}")
    if action == "ivr":
        return Step(number, line, action, _expect(value, f"{where}: ivr"))
    if action == "press":
        if isinstance(value, int) and not isinstance(value, bool):
            raise TranscriptError(
                f"{where}: press {value}: write the keys in quotes (press: \"{value}\") so "
                "YAML keeps them as typed, leading zeros included")
        if not isinstance(value, str) or not value:
            raise TranscriptError(f"{where}: press needs the keys as a text, e.g. \"1411#\"")
        if not KEYS.match(TEMPLATE.sub("0", value)):
            raise TranscriptError(f"{where}: press {value!r}: only 0-9, * and # can be keyed")
        return Step(number, line, action, value)
    if action == "expect_transfer":
        if value is True or value is None:
            return Step(number, line, action, {})
        if isinstance(value, dict) and "task" in value:
            raise TranscriptError(f"{where}: expect_transfer.task: the IVR sends no <Task> "
                                  "(TaskRouter is not used); check the hand-off's reason "
                                  "with {reason: …}")
        if isinstance(value, dict) and set(value) <= {"queue", "reason"}:
            return Step(number, line, action, value)
        raise TranscriptError(f"{where}: expect_transfer takes true or {{queue: …, reason: …}}")
    if action == "check":
        return Step(number, line, action, _check(value, where))
    if action == "bank_change":
        try:
            return Step(number, line, action, bank_changes.validate(value, where))
        except bank_changes.BankChangeError as exc:
            raise TranscriptError(str(exc)) from None
    if value not in (True, None):
        raise TranscriptError(f"{where}: {action} takes no value (write `- {action}`)")
    return Step(number, line, action, True)


def _check(value, where: str) -> dict:
    if not isinstance(value, dict) or not value:
        raise TranscriptError(f"{where}: check needs one or more of {', '.join(CHECKS)}")
    for name, spec in value.items():
        if name not in CHECKS:
            raise TranscriptError(f"{where}: unknown check {name!r}; known: {', '.join(CHECKS)}")
        fields = CHECKS[name]
        if fields is None:
            if spec is not True:
                raise TranscriptError(f"{where}: {name} takes true")
            continue
        if not isinstance(spec, dict) or not spec:
            raise TranscriptError(f"{where}: {name} needs fields: {', '.join(sorted(fields))}")
        unknown = set(spec) - fields
        if unknown:
            raise TranscriptError(f"{where}: {name} has unknown field(s) "
                                  f"{', '.join(sorted(unknown))}; known: {', '.join(sorted(fields))}")
        if "amount" in spec:

            try:
                if not TEMPLATE.search(str(spec["amount"])):
                    parse_pesos(str(spec["amount"]))
            except ValueError as exc:
                raise TranscriptError(f"{where}: {name}.amount: {exc}") from None
    return value


def _templates_in(value) -> set[str]:
    if isinstance(value, Expect):
        return value.templates()
    if isinstance(value, str):
        return {m.group(1) for m in TEMPLATE.finditer(value)}
    if isinstance(value, dict):
        return set().union(set(), *(_templates_in(v) for v in value.values()))
    if isinstance(value, (list, tuple)):
        return set().union(set(), *(_templates_in(v) for v in value))
    return set()


def _step_lines(text: str) -> list[int]:
    """The line of each step, for messages a tester can follow to the file."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "steps" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def parse_transcript(text: str, *, source: str) -> Transcript:
    try:
        data = strict_yaml.load(text)
    except yaml.YAMLError as exc:
        raise TranscriptError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise TranscriptError(f"{source}: expected a mapping with `steps:` (a list)")
    unknown = set(data) - {"name", "description", "caller", "vars", "steps"}
    if unknown:
        raise TranscriptError(f"{source}: unknown top-level field(s) "
                              f"{', '.join(sorted(map(str, unknown)))}")
    if not data["steps"]:
        raise TranscriptError(f"{source}: no steps")
    variables = data.get("vars") or {}
    if not isinstance(variables, dict) or not all(
            isinstance(v, (str, type(None))) for v in variables.values()):
        raise TranscriptError(f"{source}: vars must map names to texts (quote numbers)")
    caller = data.get("caller")
    if caller is not None and not re.fullmatch(r"\+[1-9][0-9]{7,14}", str(caller)):
        raise TranscriptError(f"{source}: caller must be an E.164 number such as +523336693552")
    lines = _step_lines(text)
    steps, known = [], set(map(str, variables))
    for index, raw in enumerate(data["steps"]):
        line = lines[index] if index < len(lines) else 0
        where = f"{source}: step {index + 1}" + (f" (line {line})" if line else "")
        step = _step(raw, index + 1, line, where)
        for match in TEMPLATE.finditer(_flat(step.value)):
            if match.group(2) and match.group(2) not in FILTERS:
                raise TranscriptError(f"{where}: unknown filter |{match.group(2)} "
                                      f"(known: {', '.join(sorted(FILTERS))})")
        missing = _templates_in(step.value) - known
        if missing:
            raise TranscriptError(
                f"{where}: {{{{{sorted(missing)[0]}}}}} is neither a var nor captured by an "
                "earlier step (captures are a regex's named groups: (?P<name>…))")
        if isinstance(step.value, Expect):
            known |= step.value.captures()
        steps.append(step)
    return Transcript(path=source, name=str(data.get("name") or Path(source).stem),
                      steps=tuple(steps),
                      vars={str(k): "" if v is None else v for k, v in variables.items()},
                      caller=str(caller) if caller else None,
                      description=str(data.get("description") or ""))


def _flat(value) -> str:
    if isinstance(value, Expect):
        return " ".join(_flat(v) for v in (value.value if isinstance(value.value, tuple)
                                           else (value.value,)))
    if isinstance(value, dict):
        return " ".join(_flat(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return " ".join(_flat(v) for v in value)
    return str(value)


def load_transcript(path) -> Transcript:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise TranscriptError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_transcript(text, source=str(path))


def transcript_paths(paths) -> list[Path]:
    """Files named, and the *.yaml files of directories named (sorted)."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.glob("*.yaml") if not p.name.startswith("_"))
        elif path.exists():
            found.append(path)
        else:
            raise TranscriptError(f"{path}: no such file or directory")
    return found


# -- templates and spoken values -------------------------------------------------
def spoken_digits(text: str) -> str:
    """'cinco, seis, siete, uno' or 'five, six, seven, one' -> '5671' (how the
    IVR reads identifiers, in any language it speaks); text that already is
    digits comes back as it is."""
    words = [w for w in re.split(r"[\s,.;]+", text.strip().lower()) if w]
    if all(is_ascii_digits(w) for w in words):
        return "".join(words)
    for language in available_languages():
        digit_words = [w.lower() for w in reader_for(language).DIGIT_WORDS]
        if words and all(w in digit_words for w in words):
            return "".join(str(digit_words.index(w)) for w in words)
    raise ValueError(f"{text!r} is not read digit by digit")


def fill(text: str, values: dict[str, str], *, escape=None) -> str:
    """Put vars and captures into `{{name}}` and `{{name|digits}}`; nothing else
    in the text is special ($650.00 stays $650.00)."""
    def one(match: re.Match) -> str:
        name, flt = match.group(1), match.group(2)
        if name not in values:
            raise KeyError(name)
        value = values[name]
        if flt == "digits":
            value = spoken_digits(value)
        return escape(value) if escape else value

    return TEMPLATE.sub(one, text)
