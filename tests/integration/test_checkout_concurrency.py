"""Checkouts racing on real databases (threads): two requests for one order id
at once open one order; two EJECUTAR at once (one tab each, the same account or
two) post one payment; a cancel racing a payment leaves one outcome."""

from sqlalchemy import func, select

from banking_core import errors
from banking_core.models import CheckoutOrder, Payment
from tests.checkout_requests import request_fields
from tests.integration.helpers import account_id, ana, at_once, balance


def count(bank, model):
    with bank.unit_of_work() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


def test_the_same_request_arriving_twice_at_once_opens_one_order(demo, clock):
    fields = request_fields(clock())
    orders = at_once(*[lambda: demo.open_checkout(dict(fields))] * 6)
    assert {order.id for order in orders} == {orders[0].id}
    assert count(demo, CheckoutOrder) == 1


def test_two_requests_with_one_order_id_at_once_keep_only_one(demo, clock):
    first = request_fields(clock())
    second = request_fields(clock(), order_id=first["order_id"], amount="1.00")
    results = at_once(lambda: demo.open_checkout(first), lambda: demo.open_checkout(second))
    refused = [r for r in results if isinstance(r, errors.CheckoutRefused)]
    assert len(refused) == 1 and refused[0].reason == "order_conflict"
    assert count(demo, CheckoutOrder) == 1


def test_ejecutar_in_several_tabs_at_once_posts_one_payment(demo, clock):
    order = demo.open_checkout(request_fields(clock()))
    customer = ana(demo)
    cheques, nomina = account_id(demo, customer, "5671"), account_id(demo, customer, "0011")
    before = balance(demo, customer, "5671") + balance(demo, customer, "0011")
    results = at_once(*[(lambda a=a: demo.pay_checkout(customer, order.token, account_id=a))
                        for a in (cheques, cheques, nomina, nomina)])
    assert all(not isinstance(r, Exception) for r in results), results
    assert {r.status for r in results} == {"paid"} and len({r.folio for r in results}) == 1
    assert count(demo, Payment) == 1
    assert balance(demo, customer, "5671") + balance(demo, customer, "0011") == before - 645000
    assert demo.verify().ok


def test_a_cancel_racing_a_payment_leaves_one_outcome(demo, clock):
    order = demo.open_checkout(request_fields(clock()))
    customer = ana(demo)
    demo.checkout_order(customer, order.token)
    pay, cancel = at_once(
        lambda: demo.pay_checkout(customer, order.token,
                                  account_id=account_id(demo, customer, "5671")),
        lambda: demo.cancel_checkout(customer, order.token))
    final = demo.checkout_order(customer, order.token)
    assert pay.status == cancel.status == final.status
    assert count(demo, Payment) == (1 if final.status == "paid" else 0)
