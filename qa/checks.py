"""Bank-side checks a transcript can make after (or during) its call:

    check:
      payment: {folio: "{{folio}}", amount: "$650.00", service: "1411",
                reference: "9876543217", account: "5671", channel: phone, notified: true}
      no_payment: true                 # this call posted nothing
      credential_blocked: {kind: access_key, last4: "0009"}
      call_record: {outcome: transferred, transfer_reason: alphanumeric_reference}

Each answers a list of problems in words (empty: the check passed). They read
the bank the IVR writes to: in-process, the replay's own database; over HTTP,
the database the server uses, given as `ivr replay --target URL --bank-url
DATABASE_URL` (never this checkout's own DATABASE_URL by default: it may well
be another bank). Without it the runner skips them and the report says so.
"""
from __future__ import annotations

from sqlalchemy import select

from banking_core.models import (
    Account, Biller, CallRecord, Credential, OutboxMessage, Payment,
)
from banking_core.money import format_mxn, parse_pesos
from qa.transcript import fill, spoken_digits


def run_checks(spec: dict, *, bank, call_sid: str, values: dict) -> list[str]:
    if bank is None:
        return ["bank-side checks need the server's bank: pass --bank-url"]
    problems = []
    for name, fields in spec.items():
        filled = fields if not isinstance(fields, dict) else {
            k: fill(str(v), values) if isinstance(v, str) else v for k, v in fields.items()}
        problems += CHECKERS[name](bank, call_sid, filled)
    return problems


def _this_call(call_sid: str):
    # The IVR keys every payment with its call (operations.post_payment).
    return Payment.idempotency_key.like(f"{call_sid}:%")


def check_payment(bank, call_sid: str, want: dict) -> list[str]:
    with bank.unit_of_work() as uow:
        query = (select(Payment, Biller.service_key, Account.number)
                 .join(Biller, Biller.id == Payment.biller_id)
                 .join(Account, Account.id == Payment.account_id))
        if "folio" in want:
            try:
                folio = spoken_digits(want["folio"])
            except ValueError as exc:
                return [f"payment: folio {exc}"]
            rows = uow.session.execute(query.where(Payment.folio == folio)).all()
            if not rows:
                return [f"payment: no payment with folio {folio}"]
        else:
            rows = uow.session.execute(query.where(_this_call(call_sid))).all()
            if not rows:
                return ["payment: this call posted no payment"]
        problems_by_row = [_payment_problems(uow.session, row, want) for row in rows]
    best = min(problems_by_row, key=len)
    return best


def _payment_problems(session, row, want: dict) -> list[str]:
    payment, service_key, number = row
    found = (f"payment {payment.folio}: {format_mxn(payment.amount_centavos)}, service "
             f"{service_key}, references {' '.join(payment.references)}, account *{number[-4:]}, "
             f"{payment.channel}")
    problems = []
    if "amount" in want and parse_pesos(want["amount"]) != payment.amount_centavos:
        problems.append(f"amount: expected {format_mxn(parse_pesos(want['amount']))}")
    if "service" in want and str(want["service"]) != service_key:
        problems.append(f"service: expected {want['service']}")
    refs = want.get("references") or ([want["reference"]] if "reference" in want else None)
    if refs is not None and [str(r) for r in refs] != payment.references:
        problems.append(f"references: expected {' '.join(map(str, refs))}")
    if "account" in want and not number.endswith(str(want["account"])):
        problems.append(f"account: expected one ending {want['account']}")
    if "channel" in want and want["channel"] != payment.channel:
        problems.append(f"channel: expected {want['channel']}")
    if want.get("notified"):
        queued = [m for m in session.scalars(select(OutboxMessage))
                  if (m.payload or {}).get("folio") == payment.folio]
        if not queued:
            problems.append("notified: no confirmation e-mail queued for it")
    return [f"{found} — {p}" for p in problems]


def check_no_payment(bank, call_sid: str, _want) -> list[str]:
    with bank.unit_of_work() as uow:
        folios = uow.session.scalars(select(Payment.folio).where(_this_call(call_sid))).all()
    return [f"no_payment: this call posted {', '.join(folios)}"] if folios else []


def check_credential_blocked(bank, call_sid: str, want: dict) -> list[str]:
    with bank.unit_of_work() as uow:
        query = select(Credential)
        if "kind" in want:
            query = query.where(Credential.kind == want["kind"])
        if "last4" in want:
            query = query.where(Credential.last4 == str(want["last4"]))
        found = uow.session.scalars(query).all()
    if not found:
        return [f"credential_blocked: no credential {want}"]
    if not any(c.blocked_at is not None for c in found):
        return [f"credential_blocked: {want.get('kind', 'credential')} ending "
                f"{want.get('last4', '?')} is not blocked in the bank"]
    return []


def check_call_record(bank, call_sid: str, want: dict) -> list[str]:
    with bank.unit_of_work() as uow:
        row = uow.session.get(CallRecord, call_sid)
    if row is None:
        return ["call_record: the call has no record (its status callback has not come)"]
    return [f"call_record: {field} is {getattr(row, field)!r}, expected {value!r}"
            for field, value in want.items() if getattr(row, field) != value]


CHECKERS = {
    "payment": check_payment, "no_payment": check_no_payment,
    "credential_blocked": check_credential_blocked, "call_record": check_call_record,
}
