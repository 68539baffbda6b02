"""HMAC (RFC 2104) under a key fixed for the life of the process, at the cost
of hashing the message alone.

Every turn computes two HMACs under keys that never change: Twilio's
signature (the auth token) and the duplicate-turn mark (the turn key).
OpenSSL 3 pays a fixed price to start each HMAC, more than hashing a turn's
few hundred bytes: about 20,000 instructions for `hmac.new` or `hmac.digest`
here, against about 10,000 this way (callgrind, bench/README.md). RFC 2104's
HMAC is H((K ^ opad) || H((K ^ ipad) || m)); the two padded key blocks are
hashed once, and each message copies those two states. The bytes are
`hmac.new`'s: tests/unit/test_keyed_hash.py compares them.
"""
from __future__ import annotations

from typing import Callable

_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


class KeyedHash:
    def __init__(self, key: bytes, digestmod: Callable):
        """`digestmod`: a hashlib constructor (hashlib.sha1, hashlib.sha256)."""
        block_size = digestmod().block_size
        if len(key) > block_size:
            key = digestmod(key).digest()  # RFC 2104: a long key is hashed first
        key = key.ljust(block_size, b"\0")
        self._inner = digestmod(key.translate(_IPAD))
        self._outer = digestmod(key.translate(_OPAD))

    def digest(self, message: bytes) -> bytes:
        # Copies: the states hashed from the key are shared by every thread.
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def hexdigest(self, message: bytes) -> str:
        return self.digest(message).hex()
