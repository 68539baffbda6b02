"""The billers' API (linea_directa/biller_api.py): a biller signs each request
with its key and sees its own payments only; every refusal is the same 401."""
import time

import pytest

from banking_core import biller_keys, biller_requests, loader
from config import Settings
from config.logging import configure_logging
from tests.conftest import TEST_PEPPER
from tests.integration.helpers import ana, pay

KEYS = {"1411-demo": "demo-runtime-wifi-1411-secreto-compartido",
        "25-demo": "demo-universidad-25-secreto-compartido-01"}


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, database_url):
    return database_url  # read-only queries: one posting path is enough


@pytest.fixture
def bank(app):
    bank = app.extensions["bank"]
    loader.seed_demo(bank)
    return bank


def signed(target, *, key_id="1411-demo", secret=None, timestamp=None, method="GET"):
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    secret = secret or KEYS[key_id]
    return {"X-Signature-Key-Id": key_id, "X-Signature-Timestamp": timestamp,
            "X-Signature": biller_requests.sign_request(secret, timestamp, method, target)}


def get(client, target, **signing):
    return client.get(target, headers=signed(target, **signing))


def test_a_biller_reads_its_payment_by_folio_the_moment_it_posts(client, bank):
    receipt = pay(bank, ana(bank), amount=150000, channel="web")
    response = get(client, f"/api/billers/v1/payments/{receipt.folio}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body == {
        "status": "posted", "folio": receipt.folio, "service_key": "1411",
        "references": ["9876543217"], "amount": "1500.00", "amount_centavos": 150000,
        "currency": "MXN", "channel": "web",
        "posted_at": receipt.posted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "posted_at_local": receipt.local_posted_at.isoformat(timespec="seconds")}


def test_by_reference_with_or_without_a_day_and_by_order_id(client, bank):
    first = pay(bank, ana(bank), amount=1000)
    second = pay(bank, ana(bank), amount=2000, key="checkout:1411:PED-2024-0077")
    pay(bank, ana(bank), references=["1234567897"], amount=3000)
    found = get(client, "/api/billers/v1/payments?reference=9876543217").get_json()
    assert [p["folio"] for p in found["payments"]] == [second.folio, first.folio]
    day = first.local_posted_at.date().isoformat()
    same_day = get(client, f"/api/billers/v1/payments?reference=9876543217&date={day}")
    assert len(same_day.get_json()["payments"]) == 2
    other_day = get(client, "/api/billers/v1/payments?reference=9876543217&date=2020-01-01")
    assert other_day.status_code == 200 and other_day.get_json() == {"payments": []}
    order = get(client, "/api/billers/v1/payments?order_id=PED-2024-0077").get_json()
    assert [(p["folio"], p["order_id"]) for p in order["payments"]] == [
        (second.folio, "PED-2024-0077")]
    assert get(client, "/api/billers/v1/payments?order_id=NO-SUCH").get_json() == {
        "payments": []}
    for bad in ("/api/billers/v1/payments", "/api/billers/v1/payments?reference=1&order_id=2",
                "/api/billers/v1/payments?reference=9876543217&date=19-11-2026"):
        response = get(client, bad)
        assert response.status_code == 400 and response.get_json()["error"] == "bad_request"


def test_another_billers_folio_is_answered_as_an_unknown_one(client, bank):
    theirs = pay(bank, ana(bank), service_key="25", references=["123456789"], amount=5000)
    other = get(client, f"/api/billers/v1/payments/{theirs.folio}")
    unknown = get(client, "/api/billers/v1/payments/0000000000")
    assert other.status_code == unknown.status_code == 404
    assert other.get_json() == unknown.get_json()
    assert get(client, f"/api/billers/v1/payments/{theirs.folio}", key_id="25-demo"
               ).status_code == 200
    by_reference = get(client, "/api/billers/v1/payments?reference=123456789")
    assert by_reference.get_json() == {"payments": []}


def test_every_refusal_is_the_same_401_and_nothing_secret_is_logged(app, client, bank,
                                                                   capsys):
    # The app's own logging, whatever an earlier test in this process left.
    configure_logging(app.extensions["settings"], force=True)
    receipt = pay(bank, ana(bank))
    target = f"/api/billers/v1/payments/{receipt.folio}"
    good = signed(target)
    # Timestamps are drawn as each request goes (a slow machine must not move
    # them across the 300 s edge), a few seconds clear of it.
    attempts = {
        "no headers": lambda: {},
        "bad signature": lambda: {**good, "X-Signature": "0" * 64},
        "stale": lambda: signed(target, timestamp=int(time.time()) - 305),
        "from the future": lambda: signed(target, timestamp=int(time.time()) + 305),
        "unknown key": lambda: signed(target, key_id="9999-demo", secret=KEYS["1411-demo"]),
        "another path": lambda: signed("/api/billers/v1/payments/0000000000"),
        "another method": lambda: signed(target, method="POST"),
        "not hex": lambda: {**good, "X-Signature": "z" * 64},
    }
    answers = {name: client.get(target, headers=headers())
               for name, headers in attempts.items()}
    assert {name: r.status_code for name, r in answers.items()} == {n: 401 for n in attempts}
    assert len({r.get_data() for r in answers.values()}) == 1
    assert answers["stale"].get_json()["error"] == "unauthorized"
    late = signed(target, timestamp=int(time.time()) - 290)
    assert client.get(target, headers=late).status_code == 200

    assert biller_keys.retire_key(bank, "1411-demo")
    assert client.get(target, headers=signed(target)).status_code == 401
    logged = "".join(capsys.readouterr())
    assert "biller_api_refused" in logged and "stale timestamp" in logged
    for secret in (KEYS["1411-demo"], good["X-Signature"]):
        assert secret not in logged


def test_refusals_from_one_address_are_rate_limited_in_json(client, bank):
    target = "/api/billers/v1/payments/0000000000"
    statuses = [client.get(target, headers={**signed(target), "X-Signature": "0" * 64}
                           ).status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]  # LOGIN_LIMIT_PER_SOURCE: 10 per 15 minutes
    refused = client.get(target, headers=signed(target))
    assert refused.status_code == 429 and refused.get_json()["error"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0


def test_requests_are_rate_limited_per_address(tmp_path, database_url):
    from linea_directa.app import create_app

    app = create_app(Settings.from_env({
        "IVR_ENV": "test", "IVR_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url, "NIP_PEPPER": TEST_PEPPER, "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "64", "BILLER_API_LIMIT": "3 per minute"}))
    try:
        loader.seed_demo(app.extensions["bank"])
        client = app.test_client()
        target = "/api/billers/v1/payments/0000000000"
        statuses = [get(client, target).status_code for _ in range(4)]
        assert statuses == [404, 404, 404, 429]
    finally:
        app.extensions["bank"].session_factory.kw["bind"].dispose()
