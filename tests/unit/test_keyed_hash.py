"""ivr/keyed_hash.py is HMAC (RFC 2104), byte for byte hmac.new's."""
import hashlib
import hmac
import os
import threading

import pytest

from ivr.keyed_hash import KeyedHash


@pytest.mark.parametrize("digestmod", [hashlib.sha1, hashlib.sha256])
@pytest.mark.parametrize("key_length", [0, 1, 20, 32, 63, 64, 65, 200])
def test_the_same_bytes_as_hmac_new(digestmod, key_length):
    key = os.urandom(key_length)
    mac = KeyedHash(key, digestmod)
    for message in (b"", b"/ivr/step|3|", os.urandom(1000), "se\u00f1or".encode()):
        assert mac.digest(message) == hmac.new(key, message, digestmod).digest()
        assert mac.hexdigest(message) == hmac.new(key, message, digestmod).hexdigest()


def test_rfc_2202_and_4231_vectors():
    # RFC 2202 test case 2 (HMAC-SHA1) and RFC 4231 test case 2 (HMAC-SHA256).
    assert KeyedHash(b"Jefe", hashlib.sha1).hexdigest(b"what do ya want for nothing?") == \
        "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    assert KeyedHash(b"Jefe", hashlib.sha256).hexdigest(b"what do ya want for nothing?") == \
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_one_message_never_leaks_into_the_next():
    mac = KeyedHash(b"k", hashlib.sha256)
    first = mac.digest(b"a")
    mac.digest(b"b" * 5000)
    assert mac.digest(b"a") == first


def test_threads_share_one_key_safely():
    mac = KeyedHash(b"token", hashlib.sha1)
    wrong = []

    def work(n):
        for i in range(300):
            message = f"{n}:{i}".encode()
            if mac.digest(message) != hmac.new(b"token", message, hashlib.sha1).digest():
                wrong.append(message)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
