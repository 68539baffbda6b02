"""Who is asking: a biller's API request, signed with one of its keys.

The biller signs `<METHOD> <path with query>` — the request line's method and
target exactly as sent, e.g. `GET /api/billers/v1/payments?reference=9876543217`
— as a body signature (banking_core/signing.py): HMAC-SHA256 of
`<timestamp>.<METHOD> <target>` under its secret, with the headers
X-Signature-Key-Id, X-Signature-Timestamp (Unix seconds, within MAX_SKEW of
the bank's clock) and X-Signature. Every refusal is the same to the caller
(an unknown key, a retired one, a stale time, a wrong signature); the reason
is for the bank's log only. docs/biller-notifications.md has a worked example.
"""
from __future__ import annotations

import dataclasses
import re

from banking_core import biller_keys, signing

MAX_SKEW_SECONDS = 300
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^[0-9a-fA-F]{64}$")


@dataclasses.dataclass(frozen=True)
class Verdict:
    key: biller_keys.SigningKey | None
    reason: str  # "ok", or why it was refused (for the log, never the caller)

    @property
    def ok(self) -> bool:
        return self.key is not None


def request_bytes(method: str, target: str) -> bytes:
    return f"{method.upper()} {target}".encode()


def sign_request(secret: str, timestamp: str, method: str, target: str) -> str:
    """What a biller computes (the bank's own example and tests use it)."""
    return signing.sign_body(secret, timestamp, request_bytes(method, target))


def authenticate(bank, *, key_id: str | None, timestamp: str | None, signature: str | None,
                 method: str, target: str, now: float) -> Verdict:
    """The biller's key, when the request is signed with it and fresh."""
    if not key_id or not timestamp or not signature:
        return Verdict(None, "missing signature headers")
    if not _TIMESTAMP.match(timestamp) or not _SIGNATURE.match(signature):
        return Verdict(None, "malformed signature headers")
    if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
        return Verdict(None, "stale timestamp")
    key = biller_keys.key_for_checking(bank, key_id)
    if key is None:
        return Verdict(None, "unknown or retired key")
    if not signing.body_signature_ok(key.secret, timestamp, request_bytes(method, target),
                                     signature):
        return Verdict(None, "bad signature")
    return Verdict(key, "ok")
