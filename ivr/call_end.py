"""A call is over: its record and transcript are written, then its state goes.

Records first, cleanup after: the status callback (ivr/webhooks.py) writes the
call's record and transcript before it deletes anything. A database that is
restarting is waited for a few seconds (the writes find what an earlier try
committed, so running them again is safe); if it stays away, the call's end is
noted in its state and the callback answers 500 (logged, and retried by Twilio
where its retry policy covers 5xx): the state stays for the retry, or for
`ivr transcripts sweep` to finish the call (`finish_reported`).
"""
from __future__ import annotations

import datetime as dt

from banking_core.call_transcripts import save_transcript
from banking_core.calls import CallEnd
from banking_core.db import when_reachable
from ivr import recording
from ivr.lost_state import STATE_LOST
from ivr.operations import call_payments_prefix
from ivr.state import CallState

DATABASE_PATIENCE = 5.0  # seconds of a status callback's 15 s spent waiting for the database
REPORTED = "reported_end"  # the call's end as Twilio reported it, kept while unrecorded


def call_end(bank, sid: str, call_status: str, duration: int | None,
             state: CallState | None, caller: str | None, *,
             state_known: bool = True) -> CallEnd:
    """How the call ended. `state_known`: False when the store could not be
    read at all (then a missing state says nothing of a loss)."""
    common = dict(call_sid=sid, call_status=call_status, duration_seconds=duration)
    if state is None:
        # Never answered by us, or its state was lost and no turn came since
        # (ivr/lost_state.py would have kept one), or lost again. The bank
        # knows whether the call paid anything or went to an agent: such a
        # call was ours, and lost its state.
        folios, handoff = when_reachable(
            lambda: (bank.folios_by_key_prefix(call_payments_prefix(sid)),
                     bank.find_handoff_by_call(sid)), within=DATABASE_PATIENCE)
        reason = handoff.reason if handoff is not None else None
        if not state_known:
            outcome = "transferred" if handoff is not None else "caller_hung_up"
        else:
            outcome = STATE_LOST if folios or handoff is not None else "caller_hung_up"
        return CallEnd(**common, outcome=outcome, caller=caller, folios=tuple(folios),
                       transfer_reason=reason)
    ended, _, reason = (state.ended or "caller_hung_up").partition(":")
    outcome = {"hangup": "ivr_hung_up", "transfer": "transferred",
               "closed": "ivr_hung_up"}.get(ended, "caller_hung_up")
    principal = state.principal or {}
    return CallEnd(
        **common, outcome=STATE_LOST if reason == STATE_LOST else outcome,
        transfer_reason=reason or None, caller=state.caller,
        customer_id=principal.get("customer_id"), login_method=principal.get("method"),
        started_at=dt.datetime.fromtimestamp(state.started_at, dt.timezone.utc),
        last_node=state.node or None, turns=state.turn,
        folios=tuple(state.vars.get("call_folios", ())))


def write_records(bank, end: CallEnd, state: CallState | None, turns: list) -> None:
    """The call's record, and its transcript when we have its state; waits out
    a database restart of up to DATABASE_PATIENCE seconds."""
    def write():
        bank.record_call_end(end)  # a repeated callback finds it recorded
        if state is not None:  # its transcript, for QA (a repeat finds no state)
            save_transcript(bank, recording.recording_of(
                state, turns, outcome=end.outcome, complete=True))

    when_reachable(write, within=DATABASE_PATIENCE)


def note_reported_end(state: CallState, call_status: str, duration: int | None) -> None:
    """Keep Twilio's report in the state, for whoever finishes the call later."""
    state.vars[REPORTED] = {"call_status": call_status, "duration": duration}


def finish_reported(bank, store, state: CallState) -> bool:
    """The sweep's part: a call whose end Twilio reported but whose records
    could not be written then. True when it was finished now."""
    reported = state.vars.get(REPORTED)
    if not isinstance(reported, dict):
        return False
    with store.hold(state.call_sid) as slot:
        if slot.state is None or REPORTED not in slot.state.vars:
            return False  # Twilio's retry finished it meanwhile
        held = slot.state
        end = call_end(bank, held.call_sid, reported.get("call_status", "completed"),
                       reported.get("duration"), held, held.caller)
        write_records(bank, end, held, store.load_recording(held.call_sid))
        store.delete(held.call_sid)
    return True
