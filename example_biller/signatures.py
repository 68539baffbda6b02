"""The bank's signatures as a biller implements them, from docs/billers.md
alone (this site never imports the bank's code: it is what a biller's
developer would write; a test checks it agrees with banking_core/signing.py).

- Fields (the checkout request we send, the result the bank sends back): every
  field but `signature`, sorted by name, each `name=value` percent-encoded as
  RFC 3986 says (all but A-Z a-z 0-9 - . _ ~, UTF-8 first), joined by `&`;
  HMAC-SHA256 with the shared secret, lowercase hex.
- Webhook bodies: HMAC-SHA256 of `<timestamp>.<raw body bytes>`.
"""
from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote


def canonical(fields: dict[str, str]) -> bytes:
    return "&".join(f"{quote(name, safe='')}={quote(fields[name], safe='')}"
                    for name in sorted(fields) if name != "signature").encode()


def sign(secret: str, fields: dict[str, str]) -> str:
    return hmac.new(secret.encode(), canonical(fields), hashlib.sha256).hexdigest()


def verify(secret: str, fields: dict[str, str]) -> bool:
    given = fields.get("signature", "")
    return hmac.compare_digest(given.encode(), sign(secret, fields).encode())


def verify_body(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.encode(), expected.encode())
