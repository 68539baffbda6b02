"""docs/biller-notifications.md's worked examples are what the code sends: the
webhook body byte for byte, its signature, the API requests' signatures, the
collection file. A change to the format fails here until the doc says it."""
import datetime as dt
import hashlib
import hmac
import re
from pathlib import Path
from zoneinfo import ZoneInfo

from banking_core import biller_notifications, biller_payments, biller_requests, collections
from banking_core.signing import body_signature_ok

DOC = (Path(__file__).resolve().parents[2] / "docs" / "biller-notifications.md").read_text(
    encoding="utf-8")
SECRET, KEY_ID, TIMESTAMP = "demo-runtime-wifi-1411-secreto-compartido", "1411-demo", "1795113006"
ZONE = ZoneInfo("America/Mexico_City")


def payment(folio, when, amount, channel, key):
    return biller_payments.BillerPayment(
        payment_id=1, folio=folio, biller_id=1, service_key="1411",
        service_name="Runtime WiFi Internet residencial", references=("9876543217",),
        amount_centavos=amount, channel=channel, posted_at=when, idempotency_key=key,
        collection_account_id=1)


EXAMPLE = payment("4968588584", dt.datetime(2026, 11, 19, 18, 30, 5, tzinfo=dt.timezone.utc),
                  150000, "web", "checkout:1411:PED-2024-0077")


def block(language: str, containing: str) -> str:
    for found in re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.S):
        if containing in found:
            return found
    raise AssertionError(f"no ```{language} block with {containing!r}")


def test_the_webhook_example_is_what_the_code_sends_and_signs():
    body = biller_notifications.body_bytes(EXAMPLE, ZONE)
    assert block("json", '"event":"payment.posted"').strip().encode() == body
    signature = biller_notifications.signed_headers(
        biller_notifications.biller_keys.SigningKey(1, "1411", KEY_ID, SECRET), TIMESTAMP,
        body, EXAMPLE.delivery_id)["X-Signature"]
    assert f"X-Signature: {signature}" in DOC and f"`{TIMESTAMP}`" in DOC
    assert body_signature_ok(SECRET, TIMESTAMP, body, signature)


def test_the_receiver_in_the_doc_accepts_the_example_and_drops_the_repeat():
    namespace = {}
    exec(block("python", "def accept"), namespace)  # noqa: S102 - our own doc's code
    body = biller_notifications.body_bytes(EXAMPLE, ZONE)
    timestamp = str(int(dt.datetime.now(dt.timezone.utc).timestamp()))
    headers = {"X-Signature-Key-Id": KEY_ID, "X-Signature-Timestamp": timestamp,
               "X-Signature": hmac.new(SECRET.encode(), timestamp.encode() + b"." + body,
                                       hashlib.sha256).hexdigest()}
    seen = set()
    assert namespace["accept"](headers, body, seen)["folio"] == "4968588584"
    assert seen == {EXAMPLE.delivery_id}
    assert namespace["accept"]({**headers, "X-Signature": "0" * 64}, body, seen) is None


def test_the_api_examples_are_signed_as_the_bank_checks():
    for target in ("/api/billers/v1/payments/4968588584",
                   "/api/billers/v1/payments?order_id=PED-2024-0077"):
        signature = biller_requests.sign_request(SECRET, TIMESTAMP, "GET", target)
        assert signature in DOC
    curl = block("sh", "curl -s")
    assert "payments/4968588584" in curl and f"X-Signature-Timestamp: {TIMESTAMP}" in curl
    assert biller_requests.sign_request(SECRET, TIMESTAMP, "GET",
                                        "/api/billers/v1/payments/4968588584") in curl


def test_the_collection_file_example_is_what_the_code_writes():
    second = payment("5120933171", dt.datetime(2026, 11, 20, 0, 2, 41, tzinfo=dt.timezone.utc),
                     65000, "phone", "test-0123456789")
    report = collections.CollectionFile("1411", "Runtime WiFi Internet residencial",
                                        dt.date(2026, 11, 19), ZONE, (EXAMPLE, second),
                                        ledger_centavos=215000)
    expected = block("csv", "folio,posted_at_local")
    assert collections.to_csv(report) == expected.replace("\n", "\r\n")
    assert report.reconciled
