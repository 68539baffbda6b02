"""Billers' checkout requests as a biller's site builds them, for the tests:
signed with the demo bank's keys (banking_core/demo_bank.yaml)."""
from __future__ import annotations

import datetime as dt
import uuid

from banking_core import signing

DEMO_SECRETS = {"25-demo": "demo-universidad-25-secreto-compartido-01",
                "1411-demo": "demo-runtime-wifi-1411-secreto-compartido"}
RETURN_URL = "http://127.0.0.1:5001/regreso"


def expires(clock_now: dt.datetime, **delta) -> str:
    when = clock_now + (dt.timedelta(**delta) if delta else dt.timedelta(minutes=30))
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_fields(now: dt.datetime, *, key_id="25-demo", secret=None, sign=True,
                   **overrides) -> dict[str, str]:
    """A valid request for the university (service 25) unless overridden; a
    field given as None is left out. Signed after the overrides."""
    fields = {"key_id": key_id, "service_key": "25", "reference1": "110045134",
              "amount": "6450.00", "order_id": f"U-{uuid.uuid4().hex[:12]}",
              "email": "alumno@universidad.example", "return_url": RETURN_URL,
              "expires_at": expires(now)}
    fields.update(overrides)
    fields = {name: value for name, value in fields.items() if value is not None}
    if sign:
        fields["signature"] = signing.sign_fields(secret or DEMO_SECRETS[key_id], fields)
    return fields
