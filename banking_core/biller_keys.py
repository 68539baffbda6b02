"""The secrets the bank shares with its billers, and the billers' addresses.

A key id travels with every signed message, so the bank finds the secret
without trying each one, and a biller rotates by asking for a new key, moving
its site to it, then retiring the old one (docs/billers.md). The newest active
key signs what the bank sends; any active key is accepted on what it receives.
A secret leaves the bank once, when it is issued.
"""
from __future__ import annotations

import dataclasses
import re
import secrets as random_secrets
from urllib.parse import urlsplit

from sqlalchemy import select

from banking_core import errors
from banking_core.catalog import normalize_service_key
from banking_core.models import Biller, BillerKey

KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MIN_SECRET_LENGTH = 32


@dataclasses.dataclass(frozen=True)
class SigningKey:
    biller_id: int
    service_key: str
    key_id: str
    secret: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class BillerAddresses:
    biller_id: int
    service_key: str
    name: str
    notification_url: str | None
    return_origins: tuple[str, ...]


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an absolute http(s) URL, lower-cased; None
    for anything else (relative, javascript:, credentials in the URL)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
            or parts.password:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    netloc = parts.hostname if port in (None, default) else f"{parts.hostname}:{port}"
    return f"{parts.scheme}://{netloc}"


def check_url(url: str, *, what: str) -> str:
    if len(url) > 500 or origin_of(url) is None:
        raise ValueError(f"{what} must be an absolute http(s) URL of at most 500 characters")
    return url


def check_key_id(key_id: str) -> str:
    if not KEY_ID_PATTERN.match(key_id or ""):
        raise ValueError("a key id is 1 to 40 letters, digits, '-' or '_'")
    return key_id


def check_secret(secret: str) -> str:
    if len(secret or "") < MIN_SECRET_LENGTH:
        raise ValueError(f"a biller secret has at least {MIN_SECRET_LENGTH} characters")
    return secret


def biller_by_service_key(session, service_key: str) -> Biller:
    """The biller of `service_key` (as keyed or stored), or UnknownService."""
    biller = session.scalar(select(Biller).where(
        Biller.service_key == normalize_service_key(service_key)))
    if biller is None:
        raise errors.UnknownService()
    return biller


def add_key(session, hasher, *, biller_id: int, key_id: str, secret: str, now) -> None:
    """Store a key inside the caller's transaction (the bank-file loader)."""
    check_key_id(key_id)
    check_secret(secret)
    if session.scalar(select(BillerKey.id).where(BillerKey.key_id == key_id)):
        raise ValueError(f"key id {key_id} already exists")
    session.add(BillerKey(biller_id=biller_id, key_id=key_id, secret_sealed=hasher.seal(secret),
                          status="active", created_at=now))


def issue_key(bank, service_key: str, *, key_id: str | None = None) -> SigningKey:
    """A new active key for the biller; the only time its secret is shown."""
    with bank.unit_of_work() as uow:
        biller = biller_by_service_key(uow.session, service_key)
        key_id = key_id or f"{biller.service_key}-{random_secrets.token_hex(4)}"
        secret = random_secrets.token_urlsafe(32)
        add_key(uow.session, bank.hasher, biller_id=biller.id, key_id=key_id, secret=secret,
                now=bank.clock())
        uow.commit()
        return SigningKey(biller.id, biller.service_key, key_id, secret)


def retire_key(bank, key_id: str) -> bool:
    """Stop accepting and signing with a key; False when no active key has that id."""
    with bank.unit_of_work() as uow:
        key = uow.session.scalar(select(BillerKey).where(
            BillerKey.key_id == key_id, BillerKey.status == "active").with_for_update())
        if key is None:
            return False
        key.status, key.retired_at = "retired", bank.clock()
        uow.commit()
        return True


def _active_key(bank, *where, newest_first: bool = False) -> SigningKey | None:
    query = (select(BillerKey.key_id, BillerKey.secret_sealed, Biller.id, Biller.service_key)
             .join(Biller, Biller.id == BillerKey.biller_id)
             .where(BillerKey.status == "active", *where))
    if newest_first:
        query = query.order_by(BillerKey.created_at.desc(), BillerKey.id.desc())
    with bank.unit_of_work() as uow:
        row = uow.session.execute(query.limit(1)).first()
    if row is None:
        return None
    return SigningKey(row.id, row.service_key, row.key_id, bank.hasher.unseal(row.secret_sealed))


def key_for_checking(bank, key_id: str) -> SigningKey | None:
    """The active key with this id, to check a message that names it; None
    for an unknown or retired id (the caller refuses without saying which)."""
    if not KEY_ID_PATTERN.match(key_id or ""):
        return None
    return _active_key(bank, BillerKey.key_id == key_id)


def key_for_signing(bank, biller_id: int) -> SigningKey | None:
    """The biller's newest active key; None when it has none (nothing to sign with)."""
    return _active_key(bank, BillerKey.biller_id == biller_id, newest_first=True)


def list_keys(bank, service_key: str) -> list[dict]:
    """Key ids and their state, never a secret."""
    with bank.unit_of_work() as uow:
        biller = biller_by_service_key(uow.session, service_key)
        keys = uow.session.scalars(select(BillerKey).where(BillerKey.biller_id == biller.id)
                                   .order_by(BillerKey.id)).all()
        return [dict(key_id=k.key_id, status=k.status, created_at=k.created_at,
                     retired_at=k.retired_at) for k in keys]


def addresses(bank, biller_id: int) -> BillerAddresses:
    with bank.unit_of_work() as uow:
        biller = uow.session.get(Biller, biller_id)
        if biller is None:
            raise errors.UnknownService()
        return BillerAddresses(biller.id, biller.service_key, biller.name,
                               biller.notification_url, tuple(biller.return_origins or ()))


def set_addresses(bank, service_key: str, *, notification_url: str | None = ...,
                  return_origins: list[str] | None = None) -> BillerAddresses:
    """Change where payments are announced (None stops them) and, when given,
    the origins a checkout may return to. `...` leaves the URL as it is."""
    if notification_url not in (None, ...):
        check_url(notification_url, what="the notification URL")
    origins = None
    if return_origins is not None:
        origins = sorted({_origin(o) for o in return_origins})
    with bank.unit_of_work() as uow:
        biller = biller_by_service_key(uow.session, service_key)
        if notification_url is not ...:
            biller.notification_url = notification_url
        if origins is not None:
            biller.return_origins = origins
        uow.commit()
        return BillerAddresses(biller.id, biller.service_key, biller.name,
                               biller.notification_url, tuple(biller.return_origins or ()))


def _origin(text: str) -> str:
    origin = origin_of(text)
    if origin is None or origin != text.rstrip("/").lower():
        raise ValueError(f"{text!r} is not an origin (scheme://host[:port], nothing after)")
    return origin
