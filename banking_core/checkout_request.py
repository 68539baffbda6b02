"""A biller's checkout request, as the bank checks it (docs/billers.md): the
fields as the form sent them, verified into a `CheckoutRequest`, or refused
with `CheckoutRefused(reason=…)`. Nothing here stores anything; the order
it becomes is banking_core/checkout.py's."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from typing import Mapping
from urllib.parse import parse_qsl, urlsplit

from banking_core import biller_keys, errors, signing
from banking_core.catalog import normalize_service_key

REQUIRED = ("key_id", "service_key", "reference1", "amount", "order_id", "email",
            "return_url", "expires_at", signing.SIGNATURE_FIELD)
OPTIONAL = ("reference2", "reference3")
RESULT_FIELDS = ("order_id", "folio", "amount", "status", "paid_at", "key_id")
MAX_VALUE = 500
MAX_LIFETIME = dt.timedelta(hours=24)
ORDER_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}", re.ASCII)
AMOUNT = re.compile(r"(0|[1-9][0-9]{0,12})\.([0-9]{2})", re.ASCII)
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", re.ASCII)
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})+", re.ASCII)



def refuse(reason: str, message: str = "", **details) -> errors.CheckoutRefused:
    return errors.CheckoutRefused(message or reason, reason=reason, **details)


@dataclasses.dataclass(frozen=True)
class CheckoutRequest:
    """A request whose signature, biller and rules were checked."""
    biller_id: int
    key_id: str
    service_key: str
    order_id: str
    references: tuple[str, ...]  # as the service stores them
    amount_centavos: int
    email: str
    return_url: str
    expires_at: dt.datetime

    @property
    def content_hash(self) -> str:
        """What the request asks for; a repeat may differ only in key id, expiry
        and signature (a biller re-signing after a rotation or a time-out)."""
        text = json.dumps([self.service_key, list(self.references), self.amount_centavos,
                           self.email.lower(), self.return_url], separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def format_time(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime(TIME_FORMAT)


def format_amount(centavos: int) -> str:
    return f"{centavos // 100}.{centavos % 100:02d}"


# ---- the request ------------------------------------------------------------
def _text_fields(fields: Mapping) -> dict[str, str]:
    known = set(REQUIRED) | set(OPTIONAL)
    if set(fields) - known:
        raise refuse("malformed", "unknown fields: " + ", ".join(sorted(set(fields) - known)))
    missing = [name for name in REQUIRED if not fields.get(name)]
    if missing:
        raise refuse("malformed", "missing fields: " + ", ".join(missing))
    if any(not isinstance(v, str) or len(v) > MAX_VALUE for v in fields.values()):
        raise refuse("malformed", f"every field is text of at most {MAX_VALUE} characters")
    return dict(fields)


def verify_request(bank, fields: Mapping[str, str]) -> CheckoutRequest:
    """The request, checked; `CheckoutRefused` saying why not. Nothing is
    stored. The signature is checked before anything the biller is asked to
    know (its origins, its rules), and never logged."""
    fields = _text_fields(fields)
    if not ORDER_ID.fullmatch(fields["order_id"]):
        raise refuse("malformed", "order_id: 1 to 64 of A-Z a-z 0-9 . _ : -")
    amount = AMOUNT.fullmatch(fields["amount"])
    if amount is None:
        raise refuse("malformed", "amount: pesos with two decimals, e.g. 1500.00")
    if not TIME.fullmatch(fields["expires_at"]):
        raise refuse("malformed", "expires_at: UTC as YYYY-MM-DDTHH:MM:SSZ")
    try:
        expires_at = dt.datetime.strptime(fields["expires_at"], TIME_FORMAT) \
            .replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise refuse("malformed", "expires_at is not a date and time") from None

    key = biller_keys.key_for_checking(bank, fields["key_id"])
    if key is None:
        raise refuse("unknown_key", "no active key has this id")
    if not signing.fields_signature_ok(key.secret, fields):
        raise refuse("bad_signature", "the signature does not match the fields")
    try:
        service_key = normalize_service_key(fields["service_key"])
    except errors.UnknownService:
        service_key = None
    if service_key != key.service_key:
        raise refuse("wrong_service", "this key signs for another service")

    now = bank.clock()
    if expires_at <= now:
        raise refuse("expired", "the request expired")
    if expires_at - now > MAX_LIFETIME:
        raise refuse("expiry_too_far", "expires_at is more than 24 hours ahead")
    _check_return_url(bank, key.biller_id, fields["return_url"])
    email = fields["email"].strip()
    if len(email) > 254 or not EMAIL.fullmatch(email):
        raise refuse("email", "the e-mail address is not valid")

    try:
        service = bank.find_service(service_key).require_active()
    except (errors.UnknownService, errors.ServiceInactive):
        raise refuse("service_unavailable", "the service is not accepting payments") from None
    given = [fields["reference1"]] + [fields[name] for name in OPTIONAL if fields.get(name)]
    try:
        references = service.check_references(given)
    except errors.InvalidReference as exc:
        raise refuse("references", exc.message, position=exc.position,
                     label=exc.details.get("label"), why=exc.reason) from None
    centavos = int(amount.group(1)) * 100 + int(amount.group(2))
    try:
        service.check_amount(centavos)
    except errors.DomainError as exc:
        raise refuse("amount", exc.message) from None
    return CheckoutRequest(
        biller_id=key.biller_id, key_id=key.key_id, service_key=service_key,
        order_id=fields["order_id"], references=references, amount_centavos=centavos,
        email=email, return_url=fields["return_url"], expires_at=expires_at)


def _check_return_url(bank, biller_id: int, url: str) -> None:
    origin = biller_keys.origin_of(url)
    if origin is None or origin not in biller_keys.addresses(bank, biller_id).return_origins:
        raise refuse("return_url", "the return URL is not on one of the biller's origins")
    parts = urlsplit(url)
    taken = {name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}
    if parts.fragment or taken & {*RESULT_FIELDS, signing.SIGNATURE_FIELD}:
        raise refuse("return_url", "the return URL has a fragment or a result field's name")
