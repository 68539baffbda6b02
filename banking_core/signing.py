"""Signatures between the bank and its billers: HMAC-SHA256 with a shared
secret, named by a key id so a biller can hold two secrets while it rotates.

Two shapes, both documented for billers' developers in docs/billers.md:

- **Fields** (a checkout request, the result sent back to the biller's return
  URL): the fields other than `signature`, sorted by name, each written
  `name=value` with both percent-encoded as RFC 3986 says (every byte but
  `A-Z a-z 0-9 - . _ ~`, UTF-8 first), joined by `&`. A form post, a query
  string and a JSON object all reduce to the same bytes, and no field can be
  moved into another's value, because `=` and `&` inside values are encoded.
- **Bodies** (a webhook): `<timestamp>.<body bytes>`, so a captured body cannot
  be replayed later under a fresh timestamp.

The signature is the lowercase hex digest; comparisons take constant time.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Mapping
from urllib.parse import quote

SIGNATURE_FIELD = "signature"


def canonical_fields(fields: Mapping[str, str]) -> bytes:
    """The bytes a fields signature covers. Every value must already be text:
    the caller decides how an amount or a time is written, once."""
    parts = []
    for name in sorted(fields):
        if name == SIGNATURE_FIELD:
            continue
        value = fields[name]
        if not isinstance(value, str):
            raise TypeError(f"field {name!r} must be text, not {type(value).__name__}")
        parts.append(f"{quote(name, safe='')}={quote(value, safe='')}")
    return "&".join(parts).encode()


def sign_fields(secret: str, fields: Mapping[str, str]) -> str:
    return _digest(secret, canonical_fields(fields))


def fields_signature_ok(secret: str, fields: Mapping[str, str]) -> bool:
    """Whether `fields[SIGNATURE_FIELD]` signs the other fields with `secret`."""
    given = fields.get(SIGNATURE_FIELD)
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.lower().encode(), sign_fields(secret, fields).encode())


def sign_body(secret: str, timestamp: str, body: bytes) -> str:
    return _digest(secret, timestamp.encode() + b"." + body)


def body_signature_ok(secret: str, timestamp: str, body: bytes, given: str) -> bool:
    return hmac.compare_digest(given.lower().encode(), sign_body(secret, timestamp, body).encode())


def _digest(secret: str, message: bytes) -> str:
    if not secret:
        raise ValueError("a signing secret is required")
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
