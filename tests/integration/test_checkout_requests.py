"""Every refusal of a biller's checkout request (banking_core/checkout.py):
each names its reason and stores nothing. On one SQLite bank for the module:
verification only reads."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from banking_core import biller_keys, errors, loader, migrate, signing
from banking_core.bank import Bank
from banking_core.db import make_engine, make_session_factory
from banking_core.models import CheckoutOrder
from banking_core.policy import BankPolicy
from tests.checkout_requests import DEMO_SECRETS, request_fields
from tests.conftest import FakeClock


@pytest.fixture(scope="module")
def bank(tmp_path_factory, hasher):
    url = f"sqlite:///{tmp_path_factory.mktemp('checkout') / 'bank.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    bank = Bank(session_factory=make_session_factory(engine), hasher=hasher,
                policy=BankPolicy(), clock=FakeClock())
    loader.seed_demo(bank)
    yield bank
    engine.dispose()


def refused(bank, fields) -> errors.CheckoutRefused:
    with pytest.raises(errors.CheckoutRefused) as caught:
        bank.open_checkout(fields)
    with bank.unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CheckoutOrder)) == 0
    return caught.value


def now(bank):
    return bank.clock()


@pytest.mark.parametrize("overrides", [
    dict(order_id=None), dict(email=None), dict(return_url=None), dict(reference1=None),
    dict(sign=False), dict(order_id="con espacio"), dict(order_id="x" * 65),
    dict(amount="1500"), dict(amount="1,500.00"), dict(amount="1500.5"), dict(amount="-1.00"),
    dict(amount="１５00.00"), dict(expires_at="1764440000"), dict(expires_at="2026-13-40T00:00:00Z"),
    dict(referencia="x"), dict(reference1="9" * 501),
], ids=lambda o: ",".join(f"{k}={str(v)[:12]}" for k, v in o.items()))
def test_a_malformed_request_is_refused_before_its_signature_is_read(bank, overrides):
    assert refused(bank, request_fields(now(bank), **overrides)).reason == "malformed"


def test_an_unknown_or_retired_key_is_refused(bank):
    fields = request_fields(now(bank), key_id="99-nadie", secret="x" * 40)
    assert refused(bank, fields).reason == "unknown_key"


@pytest.mark.parametrize("tamper", [
    lambda f: f.update(amount="1.00"),
    lambda f: f.update(reference1="110045135"),
    lambda f: f.update(signature=f["signature"][:-1] + ("0" if f["signature"][-1] != "0" else "1")),
    lambda f: f.update(signature=signing.sign_fields("another-secret-of-enough-length-000", f)),
    lambda f: f.update(reference2="1"),
], ids=["amount", "reference", "signature", "other-secret", "added-field"])
def test_a_request_whose_signature_does_not_match_is_refused(bank, tamper):
    fields = request_fields(now(bank))
    tamper(fields)
    assert refused(bank, fields).reason == "bad_signature"


def test_a_key_of_another_biller_is_refused(bank):
    fields = request_fields(now(bank), key_id="1411-demo")  # signed right, but for 25
    assert refused(bank, fields).reason == "wrong_service"


def test_an_expired_or_far_future_request_is_refused(bank):
    assert refused(bank, request_fields(now(bank) - dt.timedelta(hours=1))).reason == "expired"
    exactly_now = request_fields(now(bank), expires_at=now(bank).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert refused(bank, exactly_now).reason == "expired"
    far = request_fields(now(bank) + dt.timedelta(hours=25))
    assert refused(bank, far).reason == "expiry_too_far"


@pytest.mark.parametrize("url", [
    "http://evil.example/regreso", "https://127.0.0.1:5001/regreso", "http://127.0.0.1:5002/x",
    "javascript:alert(1)", "/regreso", "http://user@127.0.0.1:5001/x",
    "http://127.0.0.1:5001/regreso#frag", "http://127.0.0.1:5001/regreso?status=pagado",
    "http://127.0.0.1:5001.evil.example/regreso",
])
def test_a_return_url_outside_the_billers_origins_is_refused(bank, url):
    assert refused(bank, request_fields(now(bank), return_url=url)).reason == "return_url"


def test_both_registered_origins_are_accepted(bank):
    for origin in biller_keys.addresses(bank, bank.find_service("25").id).return_origins:
        order = bank.open_checkout(request_fields(now(bank), return_url=f"{origin}/r?cart=1"))
        assert order.return_origin == origin
    with bank.unit_of_work() as uow:
        uow.session.query(CheckoutOrder).delete()
        uow.commit()


@pytest.mark.parametrize("email", ["sin-arroba", "a@b", "a b@c.mx", "ana@-x.mx", "ñ@x.mx",
                                   "x" * 250 + "@a.mx"])
def test_an_email_that_is_not_one_is_refused(bank, email):
    assert refused(bank, request_fields(now(bank), email=email)).reason == "email"


@pytest.mark.parametrize("reference,why", [
    ("11004513", "too_short"), ("1100451345", "too_long"), ("11004513A", "not_numeric"),
])
def test_references_the_services_rules_refuse_are_refused(bank, reference, why):
    error = refused(bank, request_fields(now(bank), reference1=reference))
    assert error.reason == "references"
    assert error.details["why"] == why and error.details["label"] == "Matrícula"


def test_a_luhn_reference_is_checked_for_1411(bank):
    bad = request_fields(now(bank), key_id="1411-demo", service_key="1411",
                         reference1="9876543210")
    assert refused(bank, bad).details["why"] == "bad_check_digit"


def test_a_second_reference_the_service_does_not_take_is_refused(bank):
    fields = request_fields(now(bank), reference2="1234")
    assert refused(bank, fields).reason == "references"


@pytest.mark.parametrize("amount", ["0.00", "0.99", "200000.01"])
def test_an_amount_outside_the_services_range_is_refused(bank, amount):
    assert refused(bank, request_fields(now(bank), amount=amount)).reason == "amount"


def test_the_demo_secrets_are_the_ones_the_bank_holds(bank):
    for key_id, secret in DEMO_SECRETS.items():
        assert biller_keys.key_for_checking(bank, key_id).secret == secret
