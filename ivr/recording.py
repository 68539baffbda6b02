"""Every call handled is kept as a transcript: what the IVR said each turn and
what the caller keyed, with secrets masked.

The turns ride in the call state (which every turn loads and saves anyway), so
recording costs no extra round trip; the status callback hands them to the
database once (banking_core/call_transcripts.py). The trade-off: a call whose
status callback never comes keeps its turns only as long as its state lives
(STATE_TTL) unless `ivr transcripts sweep` saves it first; and a long call's
state grows with what it heard (at most MAX_TURNS turns are kept).

Secrets: keys typed at a node the menu marks `secret` (the NIP, the card, the
account and the access key used to log in) are stored as `*`s with the node's
id, never in clear; what the IVR said passes through the log redaction, which
masks any run of 8 or more digits.
"""
from __future__ import annotations

import datetime as dt

from banking_core.call_transcripts import Recording
from config.logging import redact_value
from ivr.interpreter import Event, Reply
from ivr.menu_schema import Menu
from ivr.state import CallState


def record_turn(state: CallState, menu: Menu, *, event: Event, input_node: str | None,
                reply: Reply) -> None:
    """Append this turn (state.turn already counts it) to the call's recording."""
    entry: dict = {"turn": state.turn}
    if event.kind == "no_input":
        entry.update(node=input_node, silence=True)
    elif event.kind == "digits":
        node = menu.nodes.get(input_node or "")
        if node is not None and node.secret:
            entry.update(node=input_node, keys="*" * len(event.digits), secret=node.id)
        else:
            entry.update(node=input_node, keys=event.digits)
    says = reply.gather.says if reply.gather is not None else reply.says
    entry["says"] = [redact_value(text) for text in says]
    entry["visited"] = list(reply.visited)
    entry["at"] = state.node
    if reply.transfer:
        entry["end"] = f"transfer:{reply.transfer}"
    elif reply.hangup:
        entry["end"] = "hangup"
    state.recording = [*state.recording, entry]  # the store keeps the last MAX_TURNS


def recording_of(state: CallState, turns: list, *, outcome: str | None,
                 complete: bool) -> Recording:
    """`turns`: the call's recording as its store kept it (store.load_recording)."""
    return Recording(
        call_sid=state.call_sid, caller=state.caller,
        started_at=dt.datetime.fromtimestamp(state.started_at, dt.timezone.utc),
        outcome=outcome, complete=complete, turns=list(turns))
