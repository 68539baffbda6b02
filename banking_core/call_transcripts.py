"""Call transcripts: what each phone call heard and keyed, stored once per call.

The IVR keeps a call's turns in its call state while the call lasts (no
database round trip per turn) and hands them over here when the call ends
(Twilio's status callback), or earlier when the sweep finds a call idle whose
callback never came. Saving again replaces the earlier copy: the sweep's
partial copy gives way to the complete one.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from banking_core.models import CallTranscript


@dataclasses.dataclass(frozen=True)
class Recording:
    call_sid: str
    caller: str | None
    started_at: dt.datetime | None
    outcome: str | None
    complete: bool
    turns: list
    saved_at: dt.datetime | None = None


def save_transcript(bank, recording: Recording) -> None:
    for _ in range(2):  # a concurrent first insert of the same call: update it instead
        with bank.unit_of_work() as uow:
            row = uow.session.get(CallTranscript, recording.call_sid)
            if row is not None and row.complete and not recording.complete:
                return  # never let a late sweep overwrite the finished call
            if row is None:
                row = CallTranscript(call_sid=recording.call_sid)
                uow.session.add(row)
            row.caller, row.started_at = recording.caller, recording.started_at
            row.outcome, row.complete = recording.outcome, recording.complete
            row.turns, row.saved_at = list(recording.turns), bank.clock()
            try:
                uow.commit()
                return
            except IntegrityError:
                continue


def load_transcript(bank, call_sid: str) -> Recording | None:
    with bank.unit_of_work() as uow:
        row = uow.session.get(CallTranscript, call_sid)
        return None if row is None else _recording(row)


def load_transcripts(bank, call_sids) -> list[Recording]:
    call_sids = list(call_sids)
    found = []
    with bank.unit_of_work() as uow:
        for start in range(0, len(call_sids), 500):  # stay under bind-parameter limits
            chunk = call_sids[start:start + 500]
            found += [_recording(row) for row in uow.session.scalars(
                select(CallTranscript).where(CallTranscript.call_sid.in_(chunk)))]
    return found


def recent_transcripts(bank, limit: int = 20) -> list[Recording]:
    with bank.unit_of_work() as uow:
        return [_recording(row) for row in uow.session.scalars(
            select(CallTranscript).order_by(CallTranscript.saved_at.desc()).limit(limit))]


def _recording(row: CallTranscript) -> Recording:
    return Recording(call_sid=row.call_sid, caller=row.caller, started_at=row.started_at,
                     outcome=row.outcome, complete=row.complete, turns=list(row.turns),
                     saved_at=row.saved_at)
