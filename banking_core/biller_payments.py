"""A biller's view of the payments made to it: what its webhook, its API and
its collection file say about each payment, from the immutable payment row.

One shape everywhere (`as_json`), so a biller's analyst reads the same fields
in the webhook that arrived, in the API's answer and in the day's file.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from sqlalchemy import select

from banking_core.models import Biller, Payment

# Checkout payments (a biller's site sends the customer to pay) carry this
# idempotency key: checkout:<service key>:<the biller's order id>.
CHECKOUT_PREFIX = "checkout:"
# delivery_id = uuid5(this, "payment.posted:<folio>"): the same for every
# delivery of one payment (retries, replays), different for every payment.
DELIVERY_NAMESPACE = uuid.UUID("6f0c1a52-3b8e-5d47-9a1e-4c2d7b9e0f13")
MAX_LISTED = 100


@dataclasses.dataclass(frozen=True)
class BillerPayment:
    payment_id: int
    folio: str
    biller_id: int
    service_key: str
    service_name: str
    references: tuple[str, ...]
    amount_centavos: int
    channel: str
    posted_at: dt.datetime
    idempotency_key: str
    collection_account_id: int

    @property
    def order_id(self) -> str | None:
        """The biller's order id, for a payment its checkout started."""
        prefix = f"{CHECKOUT_PREFIX}{self.service_key}:"
        if self.idempotency_key.startswith(prefix) and len(self.idempotency_key) > len(prefix):
            return self.idempotency_key[len(prefix):]
        return None

    @property
    def delivery_id(self) -> str:
        return str(uuid.uuid5(DELIVERY_NAMESPACE, f"payment.posted:{self.folio}"))


def pesos_text(centavos: int) -> str:
    """123450 -> '1234.50': the amount as machines read it (no sign, no commas)."""
    whole, cents = divmod(centavos, 100)
    return f"{whole}.{cents:02d}"


def iso_utc(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def as_json(payment: BillerPayment, timezone) -> dict:
    """The payment as the biller reads it: webhook body, API answer."""
    facts = {
        "status": "posted",
        "folio": payment.folio,
        "service_key": payment.service_key,
        "references": list(payment.references),
        "amount": pesos_text(payment.amount_centavos),
        "amount_centavos": payment.amount_centavos,
        "currency": "MXN",
        "channel": payment.channel,
        "posted_at": iso_utc(payment.posted_at),
        "posted_at_local": payment.posted_at.astimezone(timezone).isoformat(timespec="seconds"),
    }
    if payment.order_id is not None:
        facts["order_id"] = payment.order_id
    return facts


def day_bounds(timezone, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of the bank-local calendar day `day` (23 or 25
    hours long where the zone changes its clocks)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=timezone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=timezone)
    return start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)


_SELECT = (
    select(Payment.id, Payment.folio, Payment.biller_id, Biller.service_key,
           Biller.name.label("service_name"), Payment.reference1, Payment.reference2,
           Payment.reference3, Payment.amount_centavos, Payment.channel, Payment.posted_at,
           Payment.idempotency_key, Biller.collection_account_id)
    .join(Biller, Biller.id == Payment.biller_id)
)


def _of(row) -> BillerPayment:
    return BillerPayment(
        payment_id=row.id, folio=row.folio, biller_id=row.biller_id,
        service_key=row.service_key, service_name=row.service_name,
        references=tuple(r for r in (row.reference1, row.reference2, row.reference3)
                         if r is not None),
        amount_centavos=row.amount_centavos, channel=row.channel, posted_at=row.posted_at,
        idempotency_key=row.idempotency_key, collection_account_id=row.collection_account_id)


def by_id(session, payment_id: int) -> BillerPayment | None:
    row = session.execute(_SELECT.where(Payment.id == payment_id)).one_or_none()
    return None if row is None else _of(row)


def by_folio(session, biller_id: int, folio: str) -> BillerPayment | None:
    """The biller's payment with this folio; None for an unknown folio and
    for another biller's alike (a biller learns nothing of others)."""
    row = session.execute(_SELECT.where(Payment.folio == folio,
                                        Payment.biller_id == biller_id)).one_or_none()
    return None if row is None else _of(row)


def by_order(session, biller_id: int, service_key: str, order_id: str) -> BillerPayment | None:
    """The payment the biller's checkout started for `order_id` (the key's
    unique index finds it)."""
    row = session.execute(_SELECT.where(
        Payment.idempotency_key == f"{CHECKOUT_PREFIX}{service_key}:{order_id}",
        Payment.biller_id == biller_id)).one_or_none()
    return None if row is None else _of(row)


def by_reference(session, biller_id: int, reference: str, *, between=None,
                 limit: int = MAX_LISTED) -> list[BillerPayment]:
    """The biller's payments whose first reference (the one that names its
    customer) is `reference`, newest first; within [start, end) if given."""
    query = _SELECT.where(Payment.biller_id == biller_id, Payment.reference1 == reference)
    if between is not None:
        query = query.where(Payment.posted_at >= between[0], Payment.posted_at < between[1])
    rows = session.execute(query.order_by(Payment.posted_at.desc(), Payment.id.desc())
                           .limit(limit)).all()
    return [_of(row) for row in rows]


def in_period(session, biller_id: int, start: dt.datetime, end: dt.datetime
              ) -> list[BillerPayment]:
    """Every payment to the biller posted in [start, end), oldest first."""
    rows = session.execute(_SELECT.where(
        Payment.biller_id == biller_id, Payment.posted_at >= start, Payment.posted_at < end)
        .order_by(Payment.posted_at, Payment.id)).all()
    return [_of(row) for row in rows]
