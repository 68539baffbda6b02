"""NIPs and identifiers: Argon2id over a peppered value, keyed hashes for lookup.

A 4-digit NIP has only 10,000 values, so the hash cost alone protects nothing
against someone holding a stolen table; the server-side pepper (an HMAC key that
never lives in the database) is what does. Identifiers (access keys, card
numbers, account numbers used to log in) are stored as HMACs so the table can be
searched without holding them in clear.

Billers' signing secrets are the one kind the bank must be able to read back
(it signs with them), so they are sealed instead: Fernet under a key derived
from the same pepper, so a copy of the database alone opens none of them.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken


class SealedSecretError(ValueError):
    """A sealed value this pepper cannot open (another pepper sealed it, or it
    was altered)."""


class SecretHasher:
    def __init__(self, *, pepper: str, time_cost: int = 2, memory_kib: int = 19 * 1024,
                 parallelism: int = 1):
        if not pepper:
            raise ValueError("a pepper is required")
        root = pepper.encode()
        self._lookup_key = hmac.new(root, b"lookup-v1", hashlib.sha256).digest()
        self._secret_key = hmac.new(root, b"secret-v1", hashlib.sha256).digest()
        self._sealer = Fernet(base64.urlsafe_b64encode(
            hmac.new(root, b"seal-v1", hashlib.sha256).digest()))
        self._argon2 = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        # Verifying against this when an identifier is unknown keeps the answer
        # time the same whether or not the identifier exists.
        self._dummy_hash = self._argon2.hash(self._pepper("dummy"))

    def lookup_hash(self, kind: str, identifier: str) -> str:
        message = f"{kind}:{identifier}".encode()
        return hmac.new(self._lookup_key, message, hashlib.sha256).hexdigest()

    def _pepper(self, secret: str) -> str:
        return hmac.new(self._secret_key, secret.encode(), hashlib.sha256).hexdigest()

    def hash_secret(self, secret: str) -> str:
        return self._argon2.hash(self._pepper(secret))

    def verify_secret(self, stored_hash: str | None, secret: str) -> bool:
        try:
            return self._argon2.verify(stored_hash or self._dummy_hash, self._pepper(secret)) \
                and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def seal(self, secret: str) -> str:
        return self._sealer.encrypt(secret.encode()).decode()

    def unseal(self, sealed: str) -> str:
        try:
            return self._sealer.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError) as exc:
            raise SealedSecretError("this sealed secret does not open with this pepper") from exc
