"""Log-in by access key, card or account number, each with its own NIP.

Consecutive failures are counted per credential in the database (not in the
call), so hanging up and calling again does not reset them. At the policy's
maximum the credential is blocked until an operator unblocks it.
"""
from __future__ import annotations

from sqlalchemy import select, update

from banking_core import errors, sessions
from banking_core.checkdigits import luhn_is_valid
from banking_core.digits import is_ascii_digits
from banking_core.models import (
    Account, Credential, Customer, LoginFailure, CUSTOMER_ACCOUNT_KINDS,
)
from banking_core.views import Principal

IDENTIFIER_LENGTHS = {"access_key": 8, "card": 16, "account": 10}
NIP_LENGTH = 4
BLOCK_REASON = "too_many_failed_attempts"


def normalize_identifier(method: str, identifier: str) -> str:
    if method not in IDENTIFIER_LENGTHS:
        raise errors.MalformedCredential(f"unknown log-in method {method!r}", method=str(method))
    value = "".join(str(identifier).split())
    length = IDENTIFIER_LENGTHS[method]
    if not is_ascii_digits(value, length=length):
        raise errors.MalformedCredential(
            f"{method} must be {length} digits", method=method, reason="length"
        )
    if method == "card" and not luhn_is_valid(value):
        raise errors.MalformedCredential(
            "the card number is not valid", method=method, reason="check_digit"
        )
    return value


def is_valid_nip(nip: str) -> bool:
    return is_ascii_digits(nip, length=NIP_LENGTH)


def authenticate(bank, *, method: str, identifier: str, nip: str) -> Principal:
    try:
        ident = normalize_identifier(method, identifier)
    except errors.MalformedCredential:
        # A malformed identifier costs what a real failure costs (one Argon2
        # verification, one logged write): its answer must not stand out by time.
        _failed_without_credential(bank, method, nip, reason="malformed")
        raise
    return authenticate_lookup(bank, method=method, lookup=bank.hasher.lookup_hash(method, ident),
                               nip=nip)


def authenticate_lookup(bank, *, method: str, lookup: str, nip: str) -> Principal:
    """Log-in by the identifier's keyed hash: for a channel that holds the hash,
    never the number (an agent keyed it; the caller keys the NIP later).

    Every failure (no such credential, a blocked one, a wrong NIP) does the same
    work: one Argon2 verification and one committed write to `login_failures`,
    so that neither the time taken nor anything else tells whether the
    identifier exists. The error codes still differ (the core's interface);
    the channels word them all alike."""
    with bank.unit_of_work() as uow:
        cred = uow.session.execute(
            select(Credential.id, Credential.secret_hash, Credential.blocked_at)
            .where(Credential.kind == method, Credential.lookup_hash == lookup)
        ).one_or_none()
    if cred is None:
        _failed_without_credential(bank, method, nip, reason="unknown")
        raise errors.InvalidCredentials("unknown credential", remaining=None)

    # The slow hash runs outside any transaction: no lock is held while it does.
    # It runs even for a blocked credential or a malformed NIP (same time).
    nip_ok = bank.hasher.verify_secret(cred.secret_hash, nip if is_valid_nip(nip) else "") \
        and is_valid_nip(nip)
    now = bank.clock()
    with bank.unit_of_work() as uow:
        session = uow.session
        if nip_ok and cred.blocked_at is None:
            done = session.execute(
                update(Credential)
                .where(Credential.id == cred.id, Credential.blocked_at.is_(None))
                .values(failed_attempts=0, last_success_at=now)
            )
            if done.rowcount == 1:
                principal = _principal(session, cred.id)
                uow.commit()
                return principal
            # blocked by concurrent failures meanwhile: a failure like any other

        failures = session.execute(
            update(Credential)
            .where(Credential.id == cred.id, Credential.blocked_at.is_(None))
            .values(failed_attempts=Credential.failed_attempts + 1)
            .returning(Credential.failed_attempts)
        ).scalar_one_or_none()
        _log_failure(session, now, method, cred.id,
                     "blocked" if failures is None else "wrong_nip")
        if failures is None:
            uow.commit()
            raise errors.CredentialBlocked("the credential is blocked", method=method)
        maximum = bank.policy.max_failed_attempts
        if failures >= maximum:
            session.execute(
                update(Credential).where(Credential.id == cred.id)
                .values(blocked_at=now, blocked_reason=BLOCK_REASON)
            )
            uow.commit()
            # Whoever is logged in with it (another call, a browser) is out too.
            bank.sessions.end_all(sessions.credential_principal(cred.id))
            bank.log.warning("credential_blocked", credential_id=cred.id, method=method)
            raise errors.CredentialBlocked(
                "blocked after too many failed attempts", method=method, newly=True
            )
        uow.commit()
        raise errors.InvalidCredentials("wrong NIP", remaining=maximum - failures)


def _failed_without_credential(bank, method: str, nip: str, *, reason: str) -> None:
    """The work of a failure for an identifier that matches no credential: the
    Argon2 verification against a dummy hash and the logged write."""
    bank.hasher.verify_secret(None, nip if is_valid_nip(nip) else "")
    with bank.unit_of_work() as uow:
        _log_failure(uow.session, bank.clock(), str(method)[:16], None, reason)
        uow.commit()


def _log_failure(session, now, method: str, credential_id: int | None, reason: str) -> None:
    session.add(LoginFailure(method=method, credential_id=credential_id, reason=reason, at=now))


def _principal(session, credential_id: int) -> Principal:
    cred = session.get(Credential, credential_id)
    customer = session.get(Customer, cred.customer_id)
    if cred.kind == "access_key":
        account_ids = session.scalars(
            select(Account.id).where(
                Account.customer_id == customer.id, Account.kind.in_(CUSTOMER_ACCOUNT_KINDS)
            )
        ).all()
    else:
        account_ids = [cred.account_id]
    return Principal(
        customer_id=customer.id, customer_name=customer.name, method=cred.kind,
        account_ids=frozenset(account_ids), credential_id=cred.id,
    )


def principal_for_customer(bank, customer_id: int, *, method: str) -> Principal:
    """A principal with all of a customer's accounts, for a channel that verified
    the customer by its own means (an agent who confirmed the caller)."""
    with bank.unit_of_work() as uow:
        customer = uow.session.get(Customer, customer_id)
        if customer is None:
            raise errors.InvalidCredentials("unknown customer", remaining=None)
        account_ids = uow.session.scalars(
            select(Account.id).where(
                Account.customer_id == customer.id, Account.kind.in_(CUSTOMER_ACCOUNT_KINDS)
            )
        ).all()
        return Principal(
            customer_id=customer.id, customer_name=customer.name, method=method,
            account_ids=frozenset(account_ids),
        )


def unblock(bank, *, method: str, identifier: str) -> bool:
    """Clear a credential's block and failure count. False if there is no such credential."""
    ident = normalize_identifier(method, identifier)
    lookup = bank.hasher.lookup_hash(method, ident)
    with bank.unit_of_work() as uow:
        done = uow.session.execute(
            update(Credential)
            .where(Credential.kind == method, Credential.lookup_hash == lookup)
            .values(failed_attempts=0, blocked_at=None, blocked_reason=None)
        )
        uow.commit()
        return done.rowcount == 1
