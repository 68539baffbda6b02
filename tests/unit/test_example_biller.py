"""The example biller's site (example_biller/) through its Flask client: its
own signatures agree with the bank's byte for byte, it believes only results
and notifications signed with its key, and it counts a notification once."""
import json
import time
from urllib.parse import urlencode

import pytest
from hypothesis import given, strategies as st

from banking_core import signing
from example_biller import create_app, signatures
from tests.unit.test_import_graph import _imports, _module_name, ROOT

SECRET = "demo-universidad-25-secreto-compartido-01"
WIFI_SECRET = "demo-runtime-wifi-1411-secreto-compartido"


@pytest.fixture
def client(tmp_path):
    app = create_app({"DATA": str(tmp_path / "biller.db"), "BANK_URL": "http://bank.example/"})
    return app.test_client()


@given(st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=20), max_size=6))
def test_the_billers_signature_is_the_banks(fields):
    assert signatures.canonical(fields) == signing.canonical_fields(fields)
    assert signatures.sign(SECRET, fields) == signing.sign_fields(SECRET, fields)


def test_the_biller_site_imports_nothing_of_the_bank():
    found = set()
    for path in (ROOT / "example_biller").rglob("*.py"):
        found |= _imports(_module_name(path), path)
    assert {name.split(".")[0] for name in found} <= {
        "example_biller", "flask", "werkzeug", "__future__", "argparse", "contextlib",
        "datetime", "hashlib", "hmac", "json", "os", "pathlib", "re", "secrets", "signal",
        "sqlite3", "sys", "threading", "time", "urllib"}


def order(client, **form):
    data = {"matricula": "110045134", "concepto": ["colegiatura", "credencial"],
            "correo": "alumno@universidad.example", **form}
    return client.post("/pagar", data=data, base_url="http://127.0.0.1:5001")


def request_fields(response) -> dict[str, str]:
    import re
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                           response.get_data(as_text=True)))


def test_the_cart_sends_a_signed_request_to_the_bank(client):
    response = order(client)
    assert response.status_code == 200
    assert 'action="http://bank.example/conexion/cobro"' in response.get_data(as_text=True)
    fields = request_fields(response)
    assert fields["amount"] == "6600.00" and fields["service_key"] == "25"
    assert fields["return_url"] == "http://127.0.0.1:5001/regreso"
    assert fields["key_id"] == "25-demo" and signing.fields_signature_ok(SECRET, fields)


def test_a_bad_matricula_is_asked_again(client):
    assert order(client, matricula="1234").status_code == 422


def result(order_id, **changes):
    fields = {"order_id": order_id, "folio": "1234567890", "amount": "6600.00",
              "status": "pagado", "paid_at": "2026-11-29T18:00:00Z", "key_id": "25-demo"}
    fields.update(changes)
    fields["signature"] = signing.sign_fields(SECRET, fields)
    return fields


def test_a_signed_result_is_verified_and_recorded(client):
    order_id = request_fields(order(client))["order_id"]
    page = client.get("/regreso?" + urlencode(result(order_id)))
    assert page.status_code == 200 and "Pago verificado" in page.get_data(as_text=True)
    history = client.get("/historial").get_data(as_text=True)
    assert order_id in history and "pagado" in history and "1234567890" in history


@pytest.mark.parametrize("tamper", [
    lambda f: f.update(amount="1.00"),                          # after signing
    lambda f: f.update(signature="0" * 64),
    lambda f: f.update(key_id="1411-demo"),
], ids=["amount", "signature", "other-key"])
def test_a_tampered_result_is_not_believed(client, tamper):
    order_id = request_fields(order(client))["order_id"]
    fields = result(order_id)
    tamper(fields)
    page = client.get("/regreso?" + urlencode(fields))
    assert page.status_code == 400 and "Firma inválida" in page.get_data(as_text=True)
    assert "pagado" not in client.get("/historial").get_data(as_text=True)


def test_a_result_for_an_order_never_sent_is_not_believed(client):
    page = client.get("/regreso?" + urlencode(result("U-no-existe")))
    assert page.status_code == 400


def notify(client, service_key, body: dict, *, secret, key_id, timestamp=None):
    raw = json.dumps(body).encode()
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    return client.post(f"/notificaciones/{service_key}", data=raw, headers={
        "Content-Type": "application/json", "X-Signature-Key-Id": key_id,
        "X-Signature-Timestamp": timestamp,
        "X-Signature": signing.sign_body(secret, timestamp, raw)})


BODY = {"event": "payment.posted", "delivery_id": "d-1", "folio": "0000000042",
        "service_key": "1411", "references": ["9876543217"], "amount": "650.50",
        "channel": "phone", "posted_at": "2026-11-29T18:00:00Z"}


def test_a_signed_notification_is_stored_once_and_listed(client):
    first = notify(client, "1411", BODY, secret=WIFI_SECRET, key_id="1411-demo")
    again = notify(client, "1411", BODY, secret=WIFI_SECRET, key_id="1411-demo")
    assert first.status_code == again.status_code == 200
    assert first.json == {"received": True, "duplicate": False} and again.json["duplicate"]
    listed = client.get("/notificaciones").get_data(as_text=True)
    assert listed.count("0000000042") == 1 and "9876543217" in listed


def test_a_checkout_notification_marks_the_order_paid(client):
    order_id = request_fields(order(client))["order_id"]
    body = {**BODY, "service_key": "25", "delivery_id": "d-2", "order_id": order_id,
            "amount": "6600.00", "channel": "web"}
    assert notify(client, "25", body, secret=SECRET, key_id="25-demo").status_code == 200
    history = client.get("/historial").get_data(as_text=True)
    assert "pagado" in history and "0000000042" in history


@pytest.mark.parametrize("kwargs", [
    dict(secret="another-secret-000000000000000000000", key_id="1411-demo"),
    dict(secret=WIFI_SECRET, key_id="25-demo"),
    dict(secret=WIFI_SECRET, key_id="1411-demo", timestamp=int(time.time()) - 3600),
], ids=["secret", "key-id", "old-timestamp"])
def test_an_unsigned_or_stale_notification_is_refused(client, kwargs):
    assert notify(client, "1411", BODY, **kwargs).status_code == 401
    assert "0000000042" not in client.get("/notificaciones").get_data(as_text=True)


def test_a_notification_for_a_service_it_does_not_hold_is_404(client):
    assert notify(client, "5005", BODY, secret=WIFI_SECRET, key_id="1411-demo").status_code \
        == 404
