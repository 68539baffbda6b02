"""A recorded call, written back as a transcript a tester can replay and edit.

What the IVR said becomes expectations on the fixed words of the prompts it
played (the literal text between a prompt's placeholders), so the script still
passes when a date, a time or a folio differs on replay; the full text heard is
kept as a comment above each turn. Keys typed at a secret node were never
recorded: they come back as `{{nip}}`, `{{access_key}}`… and the script's
`vars` list them empty, to be filled in or given with `--var`.
"""
from __future__ import annotations

import json
import re

from banking_core.call_transcripts import Recording
from ivr.menu_schema import Menu
from ivr.prompts import PromptCatalog
from qa.runner import normalize

_PLACEHOLDER = re.compile(r"\{[^}]*\}")
MIN_FRAGMENT = 10  # shorter fixed words ("Cuenta terminación") match too much
GENERIC_PROMPTS = ("no_input", "invalid_option")


def _q(text: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(text, ensure_ascii=False)


def fragments(prompts: PromptCatalog, key: str) -> list[str]:
    found = []
    for variant in prompts.prompts.get(key, ()):
        for piece in _PLACEHOLDER.split(variant):
            piece = piece.strip(" ,.:;")
            if len(piece) >= MIN_FRAGMENT:
                found.append(piece)
    return found


def expectations(turn: dict, menu: Menu, prompts) -> list[str]:
    """The fixed words of the prompts this turn played, in the order heard.
    `prompts` is a catalog or several (a call may switch language): the
    words found in what was heard are the call's."""
    catalogs = [prompts] if isinstance(prompts, PromptCatalog) else list(prompts)
    heard = " ".join(turn.get("says", ()))
    plain = normalize(heard)
    keys = [menu.nodes[n].prompt for n in [*turn.get("visited", ()), turn.get("at")]
            if n in menu.nodes and menu.nodes[n].prompt]
    chosen: dict[int, str] = {}
    for key in dict.fromkeys([*keys, *GENERIC_PROMPTS]):
        present = [f for catalog in catalogs for f in fragments(catalog, key)
                   if normalize(f) in plain]
        if present:
            best = max(present, key=len)
            chosen.setdefault(plain.index(normalize(best)), best)
    if chosen:
        return [chosen[i] for i in sorted(chosen)]
    return [heard] if heard.strip() else []


def _keys(turn: dict, menu: Menu) -> str:
    node = menu.nodes.get(turn.get("node") or "")
    keys = "{{%s}}" % turn["secret"] if turn.get("secret") else turn["keys"]
    if node is not None and node.type == "collect":
        length = node.digits.length
        if length is None or len(turn["keys"]) != length:
            keys += "#"  # a variable-length (or short) entry ends with the finish key
    return keys


def export_transcript(recording: Recording, menu: Menu, prompts) -> str:
    secrets = list(dict.fromkeys(t["secret"] for t in recording.turns if t.get("secret")))
    lines = [f"# Recorded call {recording.call_sid}, exported by `ivr transcripts export`.",
             "# Expectations are the fixed words of each prompt; the full text heard is",
             "# the comment above them. Edit freely: docs/transcripts.md."]
    if not recording.complete:
        lines.append("# The call's end was not reported (saved by the sweep): it may be cut short.")
    lines.append(f"name: {_q('Llamada grabada ' + recording.call_sid)}")
    if recording.caller and re.fullmatch(r"\+[1-9][0-9]{7,14}", recording.caller):
        lines.append(f"caller: {_q(recording.caller)}")
    if secrets:
        lines.append("# Secrets were never recorded: fill these in or pass --var name=value.")
        lines.append("vars:")
        lines += [f"  {name}: \"\"" for name in secrets]
    lines.append("steps:")
    ended = False
    for turn in recording.turns:
        if turn.get("silence"):
            lines.append("  - silence")
        elif "keys" in turn:
            lines.append(f"  - press: {_q(_keys(turn, menu))}")
        heard = " ".join(turn.get("says", ())).replace("\n", " ")
        lines.append(f"  # turn {turn['turn']} heard: {heard}")
        expected = expectations(turn, menu, prompts)
        if len(expected) == 1:
            lines.append(f"  - ivr: {_q(expected[0])}")
        elif expected:
            lines.append("  - ivr:")
            lines += [f"      - {_q(text)}" for text in expected]
        end = turn.get("end") or ""
        if end.startswith("transfer"):
            reason = end.partition(":")[2]
            lines.append(f"  - expect_transfer: {{reason: {reason}}}" if reason
                         else "  - expect_transfer")
            ended = True
        elif end == "hangup":
            lines.append("  - expect_hangup")
            ended = True
    if not ended and recording.outcome == "caller_hung_up":
        lines.append("  - hang_up")
    return "\n".join(lines) + "\n"
