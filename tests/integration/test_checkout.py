"""Checkout orders (banking_core/checkout.py) on SQLite and PostgreSQL: one
payment per biller order id, bound to the first customer, never past its
expiry, the result signed with the biller's key."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from banking_core import biller_keys, checkout, errors, signing
from banking_core.models import CheckoutOrder, OutboxMessage, Payment
from tests.checkout_requests import DEMO_SECRETS, request_fields
from tests.integration.helpers import account_id, ana, balance, carlos


def count(bank, model, *where):
    with bank.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model).where(*where))


def opened(bank, clock, **overrides):
    return bank.open_checkout(request_fields(clock(), **overrides))


def test_a_signed_request_opens_an_order_and_the_same_request_finds_it(demo, clock):
    fields = request_fields(clock())
    order = demo.open_checkout(fields)
    assert order.status == "pending" and order.service_key == "25"
    assert order.references == ("110045134",) and order.amount_centavos == 645000
    assert order.reference_labels == ("Matrícula",) and len(order.token) == 64
    again = demo.open_checkout(dict(fields))
    assert again.token == order.token and again.id == order.id
    with demo.unit_of_work() as uow:
        stored = uow.session.scalar(select(CheckoutOrder))
    assert stored.token_digest != order.token  # the token itself is never stored
    assert count(demo, Payment) == 0


def test_a_re_signed_repeat_with_a_new_expiry_is_the_same_order(demo, clock):
    fields = request_fields(clock())
    first = demo.open_checkout(fields)
    later = request_fields(clock(), order_id=fields["order_id"],
                           expires_at=request_fields(clock() + dt.timedelta(hours=1))[
                               "expires_at"])
    assert demo.open_checkout(later).id == first.id


def test_another_request_under_the_same_order_id_is_refused(demo, clock):
    fields = request_fields(clock())
    demo.open_checkout(fields)
    with pytest.raises(errors.CheckoutRefused) as refused:
        demo.open_checkout(request_fields(clock(), order_id=fields["order_id"],
                                          amount="1.00"))
    assert refused.value.reason == "order_conflict"
    assert count(demo, CheckoutOrder) == 1


def test_paying_posts_once_with_the_checkout_idempotency_key(demo, clock):
    order = opened(demo, clock)
    customer = ana(demo)
    before = balance(demo, customer, "5671")
    paid = demo.pay_checkout(customer, order.token, account_id=account_id(demo, customer, "5671"))
    assert paid.status == "paid" and len(paid.folio) == 10 and paid.finished_at is not None
    again = demo.pay_checkout(customer, order.token,
                              account_id=account_id(demo, customer, "5432"))
    assert again.folio == paid.folio
    with demo.unit_of_work() as uow:
        [payment] = uow.session.scalars(select(Payment)).all()
    assert payment.idempotency_key == f"checkout:25:{order.order_id}"
    assert payment.channel == "web" and payment.folio == paid.folio
    assert balance(demo, customer, "5671") == before - 645000
    # The same request from the biller again shows the first result.
    assert demo.open_checkout(request_fields(clock(), order_id=order.order_id)).status == "paid"


def test_the_request_e_mail_gets_a_confirmation_without_the_payers_account(demo, clock):
    order = opened(demo, clock, email="Alumno@Universidad.example")
    customer = ana(demo)
    demo.pay_checkout(customer, order.token, account_id=account_id(demo, customer, "5671"))
    with demo.unit_of_work() as uow:
        queued = uow.session.scalars(select(OutboxMessage)).all()
    mails = {m.recipient: m for m in queued if m.kind != "biller_webhook"}
    assert set(mails) == {"ana@example.com", "Alumno@Universidad.example"}
    # and the university hears of it (docs/biller-notifications.md)
    assert [m.recipient for m in queued if m.kind == "biller_webhook"] == \
        ["http://127.0.0.1:5001/notificaciones/25"]
    student = mails["Alumno@Universidad.example"]
    assert student.kind == "checkout_confirmation" and student.payload["order_id"] == \
        order.order_id
    assert "account_last4" not in student.payload and "customer_name" not in student.payload


def test_no_second_e_mail_when_the_request_names_the_customers_own_address(demo, clock):
    order = opened(demo, clock, email="ANA@example.com")
    customer = ana(demo)
    demo.pay_checkout(customer, order.token, account_id=account_id(demo, customer, "5671"))
    assert count(demo, OutboxMessage, OutboxMessage.kind != "biller_webhook") == 1


def test_an_order_belongs_to_the_first_customer_who_opens_it(demo, clock):
    order = opened(demo, clock)
    demo.checkout_order(ana(demo), order.token)
    other = carlos(demo)
    for attempt in (lambda: demo.checkout_order(other, order.token),
                    lambda: demo.pay_checkout(other, order.token,
                                              account_id=account_id(demo, other, "0002")),
                    lambda: demo.cancel_checkout(other, order.token)):
        with pytest.raises(errors.CheckoutRefused) as refused:
            attempt()
        assert refused.value.reason == "unknown_order"
    assert count(demo, Payment) == 0
    assert demo.checkout_order(ana(demo), order.token).status == "pending"


def test_an_unknown_or_malformed_token_is_no_order(demo):
    for token in ("0" * 64, "nope", "", "A" * 64):
        with pytest.raises(errors.CheckoutRefused, match="no order"):
            demo.checkout_order(ana(demo), token)


def test_an_order_past_its_expiry_cannot_be_paid(demo, clock):
    order = opened(demo, clock)
    customer = ana(demo)
    demo.checkout_order(customer, order.token)
    clock.advance(minutes=31)
    late = demo.pay_checkout(customer, order.token,
                             account_id=account_id(demo, customer, "5671"))
    assert late.status == "expired" and late.folio is None
    assert count(demo, Payment) == 0
    assert count(demo, CheckoutOrder, CheckoutOrder.status == "expired") == 1
    result = demo.checkout_result(late)
    assert result["status"] == "cancelado" and result["folio"] == ""


def test_a_cancelled_order_stays_cancelled_and_is_never_paid(demo, clock):
    order = opened(demo, clock)
    customer = ana(demo)
    assert demo.cancel_checkout(customer, order.token).status == "cancelled"
    again = demo.pay_checkout(customer, order.token,
                              account_id=account_id(demo, customer, "5671"))
    assert again.status == "cancelled" and count(demo, Payment) == 0
    assert demo.open_checkout(request_fields(clock(), order_id=order.order_id)).status == \
        "cancelled"


def test_a_paid_order_is_not_cancelled(demo, clock):
    order = opened(demo, clock)
    customer = ana(demo)
    demo.pay_checkout(customer, order.token, account_id=account_id(demo, customer, "5671"))
    assert demo.cancel_checkout(customer, order.token).status == "paid"


def test_a_refused_payment_leaves_the_order_payable(demo, clock):
    order = opened(demo, clock, amount="5000.00")
    customer = ana(demo)
    with pytest.raises(errors.InsufficientFunds):  # ahorro holds $3,000.00
        demo.pay_checkout(customer, order.token, account_id=account_id(demo, customer, "5432"))
    paid = demo.pay_checkout(customer, order.token,
                             account_id=account_id(demo, customer, "5671"))
    assert paid.status == "paid" and count(demo, Payment) == 1


def test_the_result_is_signed_with_the_billers_newest_key(demo, clock):
    order = opened(demo, clock)
    customer = ana(demo)
    assert demo.checkout_result(demo.checkout_order(customer, order.token)) is None  # pending
    paid = demo.pay_checkout(customer, order.token,
                             account_id=account_id(demo, customer, "5671"))
    fields = demo.checkout_result(paid)
    assert set(fields) == {"order_id", "folio", "amount", "status", "paid_at", "key_id",
                           "signature"}
    assert fields["status"] == "pagado" and fields["amount"] == "6450.00"
    assert fields["folio"] == paid.folio and fields["key_id"] == "25-demo"
    assert fields["paid_at"] == paid.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert signing.fields_signature_ok(DEMO_SECRETS["25-demo"], fields)
    assert not signing.fields_signature_ok(DEMO_SECRETS["25-demo"],
                                           {**fields, "amount": "1.00"})
    clock.advance(seconds=1)
    new = biller_keys.issue_key(demo, "25")
    rotated = demo.checkout_result(paid)
    assert rotated["key_id"] == new.key_id and signing.fields_signature_ok(new.secret, rotated)


def test_the_return_link_keeps_the_billers_own_query():
    link = checkout.return_link("http://127.0.0.1:5001/regreso?carrito=7",
                                {"order_id": "U-1", "status": "pagado", "signature": "ab"})
    assert link == "http://127.0.0.1:5001/regreso?carrito=7&order_id=U-1&status=pagado" \
        "&signature=ab"
    assert checkout.return_link("https://u.example/r", {"paid_at": "2026-11-29T18:00:00Z"}) \
        == "https://u.example/r?paid_at=2026-11-29T18%3A00%3A00Z"
