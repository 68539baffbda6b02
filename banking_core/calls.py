"""How phone calls ended: one record per call, for drop-off reporting.

The IVR writes a record when Twilio's status callback says the call is over.
Twilio may deliver that callback more than once; the first record stands.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from banking_core.models import CallRecord

# state_lost: a turn found the call's state gone (the caller went to an agent,
# or heard goodbye outside agent hours), or the call paid yet left no state.
OUTCOMES = ("ivr_hung_up", "transferred", "caller_hung_up", "state_lost")


@dataclasses.dataclass(frozen=True)
class CallEnd:
    call_sid: str
    call_status: str
    outcome: str
    caller: str | None = None
    customer_id: int | None = None
    login_method: str | None = None
    started_at: dt.datetime | None = None
    transfer_reason: str | None = None
    last_node: str | None = None
    turns: int = 0
    duration_seconds: int | None = None
    folios: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class CallReport:
    since: dt.datetime | None
    total: int
    by_outcome: dict[str, int]
    transfers_by_reason: dict[str, int]
    hang_ups_by_node: dict[str, int]  # where callers left on their own
    calls_with_payment: int


def record_call_end(bank, end: CallEnd) -> bool:
    """Store how the call ended; False when it was already recorded."""
    if end.outcome not in OUTCOMES:
        raise ValueError(f"unknown call outcome {end.outcome!r}")
    with bank.unit_of_work() as uow:
        if uow.session.get(CallRecord, end.call_sid) is not None:
            return False
        uow.session.add(CallRecord(
            call_sid=end.call_sid, caller=end.caller, customer_id=end.customer_id,
            login_method=end.login_method, started_at=end.started_at, ended_at=bank.clock(),
            call_status=end.call_status, outcome=end.outcome,
            transfer_reason=end.transfer_reason, last_node=end.last_node, turns=end.turns,
            duration_seconds=end.duration_seconds, folios=list(end.folios)))
        try:
            uow.commit()
        except IntegrityError:  # a concurrent delivery of the same callback won
            return False
    return True


def call_ended(bank, call_sid: str) -> bool:
    """Twilio reported this call over. A CallSid names one call for good, so a
    request that would start it again is a replay."""
    with bank.unit_of_work() as uow:
        return uow.session.get(CallRecord, call_sid) is not None


def call_report(bank, *, since: dt.datetime | None = None) -> CallReport:
    def counts(session, column, *where):
        query = select(column, func.count()).group_by(column)
        if since is not None:
            query = query.where(CallRecord.ended_at >= since)
        for condition in where:
            query = query.where(condition)
        return {key or "-": n for key, n in session.execute(query.order_by(func.count().desc()))}

    with bank.unit_of_work() as uow:
        s = uow.session
        by_outcome = counts(s, CallRecord.outcome)
        reasons = counts(s, CallRecord.transfer_reason, CallRecord.outcome == "transferred")
        nodes = counts(s, CallRecord.last_node, CallRecord.outcome == "caller_hung_up")
        # json_array_length exists under that name on SQLite and PostgreSQL.
        paid_query = select(func.count()).where(func.json_array_length(CallRecord.folios) > 0)
        if since is not None:
            paid_query = paid_query.where(CallRecord.ended_at >= since)
        paid = s.scalar(paid_query)
    return CallReport(since=since, total=sum(by_outcome.values()), by_outcome=by_outcome,
                      transfers_by_reason=reasons, hang_ups_by_node=nodes,
                      calls_with_payment=paid)
