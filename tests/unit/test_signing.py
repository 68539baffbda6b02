"""Billers' signatures (banking_core/signing.py): the canonical form a biller's
developer reproduces from docs/billers.md, byte for byte."""
import hashlib
import hmac

import pytest

from banking_core import signing

SECRET = "demo-universidad-25-secreto-compartido-01"


def test_the_canonical_form_sorts_fields_and_percent_encodes_names_and_values():
    fields = {"service_key": "25", "amount": "1500.00", "return_url": "https://u.mx/r?a=1&b=2",
              "email": "ana+pagos@example.com", "signature": "ignored", "concepto": "Colegiatura año"}
    assert signing.canonical_fields(fields) == (
        b"amount=1500.00&concepto=Colegiatura%20a%C3%B1o&email=ana%2Bpagos%40example.com"
        b"&return_url=https%3A%2F%2Fu.mx%2Fr%3Fa%3D1%26b%3D2&service_key=25")


def test_the_signature_is_hex_hmac_sha256_of_the_canonical_form():
    fields = {"b": "2", "a": "1"}
    expected = hmac.new(SECRET.encode(), b"a=1&b=2", hashlib.sha256).hexdigest()
    assert signing.sign_fields(SECRET, fields) == expected
    assert signing.fields_signature_ok(SECRET, {**fields, "signature": expected})
    assert signing.fields_signature_ok(SECRET, {**fields, "signature": expected.upper()})


@pytest.mark.parametrize("tamper", [
    lambda f: f.update(amount="15000.00"),          # a changed value
    lambda f: f.update(extra="1"),                   # an added field
    lambda f: f.pop("order_id"),                     # a removed field
    lambda f: f.update(order_id="A1&amount=1"),      # a value smuggling a field
    lambda f: f.update(signature="0" * 64),          # a made-up signature
    lambda f: f.pop("signature"),                    # none at all
])
def test_any_change_to_a_signed_request_breaks_its_signature(tamper):
    fields = {"order_id": "A1", "amount": "1500.00"}
    fields["signature"] = signing.sign_fields(SECRET, fields)
    tamper(fields)
    assert not signing.fields_signature_ok(SECRET, fields)


def test_a_signature_made_with_another_secret_fails():
    fields = {"order_id": "A1"}
    fields["signature"] = signing.sign_fields("another-secret-of-thirty-two-chars!!", fields)
    assert not signing.fields_signature_ok(SECRET, fields)


def test_values_must_be_text_so_nobody_guesses_how_a_number_is_written():
    with pytest.raises(TypeError, match="amount"):
        signing.canonical_fields({"amount": 1500})


def test_a_body_signature_covers_its_timestamp():
    body = b'{"folio":"0000000001"}'
    signature = signing.sign_body(SECRET, "1764435600", body)
    assert signature == hmac.new(SECRET.encode(), b"1764435600." + body,
                                 hashlib.sha256).hexdigest()
    assert signing.body_signature_ok(SECRET, "1764435600", body, signature)
    assert not signing.body_signature_ok(SECRET, "1764435601", body, signature)
    assert not signing.body_signature_ok(SECRET, "1764435600", body + b" ", signature)
