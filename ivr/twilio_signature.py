"""Twilio's signature on a webhook request, checked once per request.

Twilio signs the full URL it requested, followed by each POST parameter's
name and value, parameters sorted by name (values of one name sorted too),
with HMAC-SHA1 keyed by the account's auth token, base64-encoded in the
X-Twilio-Signature header (Twilio's docs, "Webhooks security": "Validating
signatures from Twilio"; twilio-python's RequestValidator.compute_signature).

Every turn of every call is checked, and twilio's own validator, given
Flask's form, tries a method the form does not have and falls back to
another for each of a turn's twenty-odd parameters, an exception caught each
time: about a twelfth of a turn's CPU. Here the string is built from the form
in one pass and keyed with the token's precomputed HMAC (ivr/keyed_hash.py).
Only a mismatch pays for twilio's validator, which also tries the URL with
and without its port; so this fast path can only ever accept what twilio's
validator would accept for the same URL, and tests/unit/test_twilio_signature.py
checks the two agree on every kind of form.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from twilio.request_validator import RequestValidator

from ivr.keyed_hash import KeyedHash


def string_to_sign(url: str, form) -> str:
    """`form`: a werkzeug MultiDict (or a plain dict of strings). Names and
    values as twilio's validator takes them: each name once, sorted, then
    each of its distinct values, sorted."""
    lists = form.lists() if hasattr(form, "lists") else ((k, [v]) for k, v in form.items())
    parts = [url]
    for name, values in sorted(lists):
        for value in sorted(set(values)) if len(values) > 1 else values:
            parts.append(name)
            parts.append(value)
    return "".join(parts)


class SignatureChecker:
    def __init__(self, auth_token: str):
        self.validator = RequestValidator(auth_token)
        self._mac = KeyedHash(auth_token.encode(), hashlib.sha1)

    def compute(self, url: str, form) -> str:
        """The signature Twilio sends for `url` and `form`."""
        return base64.b64encode(self._mac.digest(string_to_sign(url, form).encode())).decode()

    def signed(self, url: str, form, signature: str) -> bool:
        """Twilio signed this request: one HMAC over exactly the configured
        URL settles nearly every request; a mismatch gets twilio's full check."""
        if hmac.compare_digest(self.compute(url, form).encode(), signature.encode()):
            return True
        return self.validator.validate(url, form, signature)
