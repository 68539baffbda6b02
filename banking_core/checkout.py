"""Checkout: a biller's site sends its customer to the bank with a signed
payment request; the customer logs in, pays it from one of their accounts, and
goes back to the biller with a signed result (docs/billers.md).

- `verify_request` takes the request's fields as the form sent them and returns
  a `CheckoutRequest`, or refuses with `CheckoutRefused(reason=…)`: malformed
  fields, an unknown key, a bad signature, a key of another biller, an expiry
  past or too far ahead, a return URL outside the biller's registered origins,
  an e-mail that is not one, references or an amount the service's own rules
  refuse (`catalog.Service`, the rules every channel applies).
- `open_order` keeps it: one order per biller and order id. The same request
  again finds the same order (and so its result); another request under that
  order id is refused.
- An order binds to the first customer who opens it; nobody else sees it.
  `pay_order` posts it through `payments.post_payment` under the idempotency
  key `checkout:<service_key>:<order_id>`, and marks it paid in the payment's
  own transaction: one payment per order, however many clicks, tabs or
  requests. Past its expiry, or once cancelled, it cannot be paid.
- `result_fields` is what goes back to the biller, signed with its newest key.

The page's token is an HMAC of the order's identity under the bank's pepper:
unguessable, recomputed when needed, never stored (only its digest is).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from typing import Mapping
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from banking_core import biller_keys, checkout_mail, errors, signing
from banking_core.checkout_request import (  # noqa: F401 (the request's names, for callers)
    REQUIRED, RESULT_FIELDS, CheckoutRequest, format_amount, format_time, refuse, verify_request,
)
from banking_core.models import Biller, CheckoutOrder, Customer, OutboxMessage, Payment

TOKEN = re.compile(r"[0-9a-f]{64}", re.ASCII)
STATUS_WORDS = {"paid": "pagado", "cancelled": "cancelado", "expired": "cancelado"}


@dataclasses.dataclass(frozen=True)
class Order:
    id: int
    token: str
    biller_id: int
    service_key: str
    service_name: str
    reference_labels: tuple[str, ...]
    order_id: str
    references: tuple[str, ...]
    amount_centavos: int
    email: str
    return_url: str
    expires_at: dt.datetime
    status: str  # pending | paid | cancelled | expired
    customer_id: int | None
    folio: str | None
    finished_at: dt.datetime | None

    @property
    def idempotency_key(self) -> str:
        return f"checkout:{self.service_key}:{self.order_id}"

    @property
    def return_origin(self) -> str:
        return biller_keys.origin_of(self.return_url) or ""

    @property
    def final(self) -> bool:
        return self.status != "pending"


def open_checkout(bank, fields: Mapping[str, str]) -> Order:
    """A biller's request, verified and kept; a refusal is logged with its
    reason and the biller's own ids (never the signature) and raised."""
    try:
        return open_order(bank, verify_request(bank, fields))
    except errors.CheckoutRefused as exc:
        bank.log.info("checkout_refused", reason=exc.reason,
                      key_id=str(fields.get("key_id", ""))[:40],
                      order_id=str(fields.get("order_id", ""))[:64])
        raise


# ---- orders -----------------------------------------------------------------
def _token(bank, biller_id: int, order_id: str) -> str:
    return bank.hasher.lookup_hash("checkout-order", f"{biller_id}:{order_id}")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_order(bank, request: CheckoutRequest) -> Order:
    """The order for this request: new, or the one a same request opened
    before (whatever became of it). Another request under the order id is
    refused (`order_conflict`). Two at once: one inserts, the other finds it."""
    token = _token(bank, request.biller_id, request.order_id)
    refs = list(request.references) + [None] * (3 - len(request.references))
    for _ in range(3):
        with bank.unit_of_work() as uow:
            found = uow.session.scalar(select(CheckoutOrder.request_hash).where(
                CheckoutOrder.biller_id == request.biller_id,
                CheckoutOrder.order_id == request.order_id))
            if found is None:
                uow.session.add(CheckoutOrder(
                    token_digest=_digest(token), biller_id=request.biller_id,
                    order_id=request.order_id, key_id=request.key_id, reference1=refs[0],
                    reference2=refs[1], reference3=refs[2],
                    amount_centavos=request.amount_centavos, email=request.email,
                    return_url=request.return_url, request_hash=request.content_hash,
                    status="pending", created_at=bank.clock(), expires_at=request.expires_at))
                try:
                    uow.commit()
                except IntegrityError:
                    continue  # a twin request inserted it first: read it
                bank.log.info("checkout_opened", service_key=request.service_key,
                              order_id=request.order_id, key_id=request.key_id)
            elif found != request.content_hash:
                raise refuse("order_conflict", "this order id was used for another request")
        return _load(bank, token)
    raise refuse("order_conflict", "this order id could not be opened")


def _load(bank, token: str) -> Order:
    with bank.unit_of_work() as uow:
        row = uow.session.scalar(select(CheckoutOrder).where(
            CheckoutOrder.token_digest == _digest(token)))
        if row is None:
            raise refuse("unknown_order", "no order has this token")
        biller = uow.session.get(Biller, row.biller_id)
        status = row.status
        if status == "pending" and bank.clock() >= row.expires_at:
            status = "expired"  # as good as written: it can never be paid now
        return Order(
            id=row.id, token=token, biller_id=row.biller_id, service_key=biller.service_key,
            service_name=biller.name,
            reference_labels=tuple(r.label for r in biller.references),
            order_id=row.order_id,
            references=tuple(r for r in (row.reference1, row.reference2, row.reference3)
                             if r is not None),
            amount_centavos=row.amount_centavos, email=row.email, return_url=row.return_url,
            expires_at=row.expires_at, status=status, customer_id=row.customer_id,
            folio=row.folio, finished_at=row.finished_at)


def order_for(bank, principal, token: str) -> Order:
    """The order behind a page's token, for this customer. The first customer
    to open it is the only one who ever may: to anyone else it does not exist
    (the same refusal as an unknown token)."""
    if not TOKEN.fullmatch(token or ""):
        raise refuse("unknown_order", "no order has this token")
    with bank.unit_of_work() as uow:
        uow.session.execute(
            update(CheckoutOrder)
            .where(CheckoutOrder.token_digest == _digest(token),
                   CheckoutOrder.customer_id.is_(None))
            .values(customer_id=principal.customer_id))
        uow.commit()
    order = _load(bank, token)
    if order.customer_id != principal.customer_id:
        raise refuse("unknown_order", "no order has this token")
    if order.status == "expired":
        _close(bank, order, "expired")
    return order


def _close(bank, order: Order, status: str) -> None:
    now = bank.clock()
    with bank.unit_of_work() as uow:
        uow.session.execute(
            update(CheckoutOrder)
            .where(CheckoutOrder.id == order.id, CheckoutOrder.status == "pending")
            .values(status=status, finished_at=now))
        uow.commit()


class _OrderClosed(Exception):
    """The order stopped being payable (cancelled, expired) while paying: the
    payment's transaction is rolled back."""


def pay_order(bank, principal, token: str, *, account_id: int) -> Order:
    """Pay the order from one of the customer's accounts, once. Already paid,
    cancelled or expired: the order as it stands. A refusal of the payment
    (funds, daily limit, an account not this log-in's) is raised as the core's
    DomainError, and the order stays payable."""
    order = order_for(bank, principal, token)
    if order.final:
        return order
    now = bank.clock()

    def mark_paid(connection, receipt) -> None:
        payment_id = connection.execute(
            select(Payment.id).where(Payment.folio == receipt.folio)).scalar_one()
        marked = connection.execute(
            update(CheckoutOrder)
            .where(CheckoutOrder.id == order.id, CheckoutOrder.status == "pending",
                   CheckoutOrder.customer_id == principal.customer_id,
                   CheckoutOrder.expires_at > now)
            .values(status="paid", payment_id=payment_id, folio=receipt.folio,
                    finished_at=receipt.posted_at)).rowcount
        if marked != 1:
            raise _OrderClosed()
        email = connection.execute(select(Customer.email).where(
            Customer.id == principal.customer_id)).scalar_one()
        if order.email.lower() != (email or "").lower():
            # The customer's own confirmation went with the posting; the
            # address the biller gave gets one without the payer's account.
            connection.execute(insert(OutboxMessage).values(
                kind=checkout_mail.KIND, payment_id=payment_id, recipient=order.email,
                payload=checkout_mail.payload(receipt, order.order_id), status="pending",
                attempts=0, next_attempt_at=receipt.posted_at, created_at=receipt.posted_at))

    try:
        bank.post_payment(principal, channel="web", account_id=account_id,
                          service_key=order.service_key, references=order.references,
                          amount_centavos=order.amount_centavos,
                          idempotency_key=order.idempotency_key, with_payment=mark_paid)
    except _OrderClosed:
        pass  # nothing posted; the order says what happened to it
    except errors.IdempotencyConflict:
        # A twin (another tab, another account chosen) paid it first.
        if not _load(bank, token).final:
            raise
    return order_for(bank, principal, token)


def cancel_order(bank, principal, token: str) -> Order:
    """The customer goes back without paying: the order is final (the biller
    opens a new order id to try again). Already paid: it stays paid."""
    order = order_for(bank, principal, token)
    if not order.final:
        _close(bank, order, "cancelled")
        bank.log.info("checkout_cancelled", service_key=order.service_key,
                      order_id=order.order_id)
    return order_for(bank, principal, token)


# ---- the result -------------------------------------------------------------
def result_fields(bank, order: Order) -> dict[str, str] | None:
    """The signed result for the biller's return URL; None while the order is
    pending, or when the biller has no active key to sign with."""
    if not order.final:
        return None
    key = biller_keys.key_for_signing(bank, order.biller_id)
    if key is None:
        return None
    paid = order.status == "paid"
    fields = {"order_id": order.order_id, "folio": order.folio if paid else "",
              "amount": format_amount(order.amount_centavos),
              "status": STATUS_WORDS[order.status],
              "paid_at": format_time(order.finished_at) if paid else "", "key_id": key.key_id}
    fields[signing.SIGNATURE_FIELD] = signing.sign_fields(key.secret, fields)
    return fields


def return_link(return_url: str, fields: Mapping[str, str]) -> str:
    """The return URL with the result added to its query (the biller's own
    parameters kept; `_check_return_url` made sure none has a result's name)."""
    parts = urlsplit(return_url)
    added = urlencode(list(fields.items()), quote_via=quote)
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
