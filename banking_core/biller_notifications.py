"""Every payment reaches its biller: a signed JSON webhook through the outbox.

Queued with the payment: a database trigger on payments (migration 0014) adds
an outbox row of kind `biller_webhook` whenever the payment's biller has a
notification URL, in the payment's own transaction, whatever the channel and
whichever posting path. The body is rendered here, at delivery, from the
immutable payment row: every delivery of one payment sends the same bytes.

Delivered by `deliver_due` (the worker's webhook round, beside the e-mails and
never in their way): each row is claimed with a short lease by a conditional
UPDATE (two workers never send one row at once), POSTed with a short timeout,
and marked sent right after a 2xx. Anything else — refused connection,
timeout, 3xx, 4xx, 5xx — pushes the next attempt back: 30 s doubling to an
hour, then hourly, for GIVE_UP_AFTER; then the row is `failed` (dead letter:
kept, counted by /metrics, listed by `ivr bank biller notifications`, sent
again by `ivr bank biller replay-notifications`). A crash between the
biller's 2xx and the mark sends the payment again when the lease ends: that
is why every delivery of a payment carries the same `delivery_id`, by which
billers drop duplicates. The format: docs/biller-notifications.md.
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import json
import time
from typing import Protocol

from sqlalchemy import func, insert, select, update

from banking_core import biller_keys, biller_payments, signing
from banking_core.models import Biller, OutboxMessage, Payment

KIND = "biller_webhook"
EVENT = "payment.posted"
# Far longer than one POST may take (linea_directa/webhook_sender.py: 3 s to
# connect, 10 s to answer).
LEASE = dt.timedelta(minutes=2)
FIRST_RETRY = dt.timedelta(seconds=30)
MAX_BACKOFF = dt.timedelta(hours=1)
GIVE_UP_AFTER = dt.timedelta(days=7)
PARALLEL_BILLERS = 4
USER_AGENT = "LineaDirecta-Webhooks/1"


class WebhookSender(Protocol):
    """The HTTP client (linea_directa/webhook_sender.py): the core knows none."""

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST and return the HTTP status; raise on no answer (refused, timeout)."""


def backoff(attempts: int) -> dt.timedelta:
    """After the n-th failed attempt: 30 s, 1 min, 2, 4, 8, 16, 32 min, then 1 h."""
    exponent = min(max(attempts - 1, 0), 20)
    return min(FIRST_RETRY * 2 ** exponent, MAX_BACKOFF)


def body_bytes(payment: biller_payments.BillerPayment, timezone) -> bytes:
    """The webhook's JSON: compact, keys sorted, the same bytes every time."""
    body = {"event": EVENT, "delivery_id": payment.delivery_id,
            **biller_payments.as_json(payment, timezone)}
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def signed_headers(key: biller_keys.SigningKey, timestamp: str, body: bytes,
                   delivery_id: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Delivery-Id": delivery_id,
        "X-Signature-Key-Id": key.key_id,
        "X-Signature-Timestamp": timestamp,
        "X-Signature": signing.sign_body(key.secret, timestamp, body),
    }


@dataclasses.dataclass
class DeliveryResult:
    sent: int = 0
    failed: int = 0
    dead: int = 0

    def add(self, other: "DeliveryResult") -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.dead += other.dead


def deliver_due(bank, sender: WebhookSender, *, limit: int = 200,
                parallel: int = PARALLEL_BILLERS) -> DeliveryResult:
    """One round: the due webhooks, each biller's in order on its own thread
    (up to `parallel` billers at once, so a slow one delays only itself). A
    biller that fails once is left for the next round: its other rows are not
    tried against a server that just failed."""
    now = bank.clock()
    with bank.unit_of_work() as uow:
        due = uow.session.execute(
            select(OutboxMessage.id, Payment.biller_id)
            .join(Payment, Payment.id == OutboxMessage.payment_id)
            .where(OutboxMessage.kind == KIND, OutboxMessage.status == "pending",
                   OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id).limit(limit)).all()
    by_biller: dict[int, list[int]] = {}
    for message_id, biller_id in due:
        by_biller.setdefault(biller_id, []).append(message_id)
    result = DeliveryResult()
    if not by_biller:
        return result
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        for done in pool.map(lambda ids: _deliver_in_order(bank, sender, ids),
                             by_biller.values()):
            result.add(done)
    return result


def _deliver_in_order(bank, sender, message_ids: list[int]) -> DeliveryResult:
    result = DeliveryResult()
    for message_id in message_ids:
        outcome = _deliver_one(bank, sender, message_id)
        if outcome == "sent":
            result.sent += 1
        elif outcome in ("failed", "dead"):
            result.failed += 1
            result.dead += outcome == "dead"
            break
    return result


def _deliver_one(bank, sender, message_id: int) -> str | None:
    message = _claim(bank, message_id)
    if message is None:  # another worker has it, or sent it
        return None
    with bank.unit_of_work() as uow:
        payment = biller_payments.by_id(uow.session, message.payment_id)
        url = uow.session.scalar(select(Biller.notification_url)
                                 .where(Biller.id == payment.biller_id))
    if url is None:
        # The biller stopped its notifications: nowhere to send. Kept as a
        # dead letter; a replay sends it once the biller has a URL again.
        return _record_failure(bank, message, payment, "the biller has no notification URL",
                               give_up=True)
    key = biller_keys.key_for_signing(bank, payment.biller_id)
    if key is None:
        return _record_failure(bank, message, payment, "the biller has no active key")
    body = body_bytes(payment, bank.policy.timezone)
    headers = signed_headers(key, str(int(time.time())), body, payment.delivery_id)
    try:
        status = sender.post(url, body, headers)
    except Exception as exc:  # noqa: BLE001 - no answer, whatever the cause: retry later
        return _record_failure(bank, message, payment, type(exc).__name__)
    if 200 <= status < 300:
        _record_sent(bank, message, url)
        bank.log.info("biller_webhook_sent", outbox_id=message.id, folio=payment.folio,
                      service_key=payment.service_key, status=status)
        return "sent"
    return _record_failure(bank, message, payment, f"HTTP {status}")


def _claim(bank, message_id: int) -> OutboxMessage | None:
    now = bank.clock()
    with bank.unit_of_work() as uow:
        claimed = uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.kind == KIND,
                   OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .values(next_attempt_at=now + LEASE)
        ).rowcount
        message = uow.session.get(OutboxMessage, message_id) if claimed else None
        uow.commit()
        return message


def _record_sent(bank, message: OutboxMessage, url: str) -> None:
    with bank.unit_of_work() as uow:
        uow.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message.id)
            .values(status="sent", sent_at=bank.clock(), attempts=message.attempts + 1,
                    recipient=url, last_error=None))
        uow.commit()


def _record_failure(bank, message: OutboxMessage, payment, error: str, *,
                    give_up: bool = False) -> str:
    attempts = message.attempts + 1
    now = bank.clock()
    dead = give_up or now - message.created_at >= GIVE_UP_AFTER
    with bank.unit_of_work() as uow:
        uow.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message.id)
            .values(attempts=attempts, next_attempt_at=now + backoff(attempts),
                    status="failed" if dead else "pending", last_error=error[:500]))
        uow.commit()
    log = bank.log.error if dead else bank.log.warning
    log("biller_webhook_failed", outbox_id=message.id, folio=payment.folio,
        service_key=payment.service_key, attempts=attempts, error=error, gave_up=dead)
    return "dead" if dead else "failed"


# ---- operators: what is waiting, what failed, sending again -----------------

@dataclasses.dataclass(frozen=True)
class WebhookRow:
    outbox_id: int
    folio: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    created_at: dt.datetime
    sent_at: dt.datetime | None
    last_error: str | None


def webhooks(bank, service_key: str, *, status: str | None = None,
             limit: int = 100) -> list[WebhookRow]:
    """A biller's webhooks, newest first (only those in `status` if given)."""
    with bank.unit_of_work() as uow:
        biller = biller_keys.biller_by_service_key(uow.session, service_key)
        query = (select(OutboxMessage, Payment.folio)
                 .join(Payment, Payment.id == OutboxMessage.payment_id)
                 .where(OutboxMessage.kind == KIND, Payment.biller_id == biller.id))
        if status is not None:
            query = query.where(OutboxMessage.status == status)
        rows = uow.session.execute(query.order_by(OutboxMessage.id.desc()).limit(limit)).all()
        return [WebhookRow(m.id, folio, m.status, m.attempts, m.next_attempt_at, m.created_at,
                           m.sent_at, m.last_error) for m, folio in rows]


@dataclasses.dataclass(frozen=True)
class ReplayResult:
    queued: int
    already_pending: int


def replay(bank, service_key: str, *, first_day: dt.date, last_day: dt.date) -> ReplayResult:
    """Queue again the webhook of every payment to the biller posted from
    `first_day` to `last_day` (bank-local days, both included): a new outbox
    row each, with the payment's own delivery_id (billers drop what they had).
    A payment whose webhook is still pending gets no second one."""
    if last_day < first_day:
        raise ValueError("the last day is before the first")
    start, _ = biller_payments.day_bounds(bank.policy.timezone, first_day)
    _, end = biller_payments.day_bounds(bank.policy.timezone, last_day)
    now = bank.clock()
    with bank.unit_of_work() as uow:
        biller = biller_keys.biller_by_service_key(uow.session, service_key)
        if biller.notification_url is None:
            raise ValueError(f"biller {biller.service_key} has no notification URL")
        pending = select(OutboxMessage.payment_id).where(
            OutboxMessage.kind == KIND, OutboxMessage.status == "pending")
        payment_ids = uow.session.scalars(
            select(Payment.id).where(Payment.biller_id == biller.id, Payment.posted_at >= start,
                                     Payment.posted_at < end)
            .order_by(Payment.posted_at, Payment.id)).all()
        waiting = set(uow.session.scalars(pending.where(
            OutboxMessage.payment_id.in_(payment_ids)))) if payment_ids else set()
        again = [p for p in payment_ids if p not in waiting]
        if again:
            uow.session.execute(insert(OutboxMessage), [dict(
                kind=KIND, payment_id=payment_id, recipient=biller.notification_url,
                payload={"event": EVENT, "replay": True}, status="pending", attempts=0,
                next_attempt_at=now, created_at=now) for payment_id in again])
        uow.commit()
    bank.log.info("biller_webhooks_replayed", service_key=biller.service_key,
                  queued=len(again), already_pending=len(waiting))
    return ReplayResult(len(again), len(waiting))


def counts(session) -> dict[str, int]:
    """Webhooks by status, for /metrics."""
    found = dict(session.execute(select(OutboxMessage.status, func.count())
                                 .where(OutboxMessage.kind == KIND)
                                 .group_by(OutboxMessage.status)).all())
    return {status: int(found.get(status, 0)) for status in ("pending", "sent", "failed")}
